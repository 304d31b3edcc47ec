// The post step runs only when the workflow run was cancelled (post-if:
// cancelled()); it cancels the deployment the main step submitted, so queued
// tasks never start and running actions get SIGTERM.
import * as core from '@actions/core';
import { cancelDeployment } from './action/main.ts';

await cancelDeployment(core.getState('deployment-id'));
