// The post step runs only when the workflow run was cancelled (post-if:
// cancelled()); it cancels the deployment the main step submitted.
import * as core from '@actions/core';

const deploymentId = core.getState('deployment-id');
if (deploymentId) core.info(`the workflow was cancelled; deployment ${deploymentId} is left to the agent`);
