// The agent's configuration file (flotilla.yml), as the design describes it.
import { z } from 'zod';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"');
const byteSize = z.union([
  z.number().int().min(0),
  z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i, 'a size is like 500MB or 20GB'),
]);

export const targetConfigSchema = z.strictObject({
  name,
  roles: z.array(z.string().min(1)).min(1),
  host: z.string().min(1).optional(),
  root: z.string().min(1).optional(),
  tenants: z.array(name).optional(),
});

export const agentConfigSchema = z.strictObject({
  node: name.optional(),
  listen: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  databaseUrl: z.string().min(1).optional(),
  taskCap: z.number().int().min(0).optional(),
  leaseTtl: z.union([z.number().positive(), z.string()]).optional(),
  worker: z
    .strictObject({
      pools: z.array(name).optional(),
      maxActions: z.number().int().min(1).optional(),
      targets: z.array(targetConfigSchema).optional(),
    })
    .optional(),
  packages: z
    .strictObject({
      cacheDir: z.string().min(1).optional(),
      maxCacheBytes: byteSize.optional(),
      maxPackageBytes: byteSize.optional(),
      allowedHosts: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      tokens: z
        .array(
          z.strictObject({
            name,
            sha256: z.string().regex(/^[a-f0-9]{64}$/, 'sha256 of the token, 64 lowercase hex characters'),
            scopes: z.array(z.enum(['deploy', 'drain', 'read', 'worker'])).min(1),
          }),
        )
        .optional(),
      oidc: z
        .strictObject({
          issuer: z.string().url(),
          audience: z.string().min(1),
          jwksUrl: z.string().url().optional(),
          // Claims of GitHub's token; repository_id is numeric (it survives renames), the rest exact strings.
          allow: z
            .array(
              z.strictObject({
                repository: z
                  .string()
                  .regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name')
                  .optional(),
                repository_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).optional(),
                repository_owner: z.string().min(1).optional(),
                environment: z.string().min(1).optional(),
                ref: z.string().min(1).optional(),
                workflow_ref: z.string().min(1).optional(),
                event_name: z.string().min(1).optional(),
                scopes: z
                  .array(z.enum(['deploy', 'drain', 'read', 'worker']))
                  .min(1)
                  .optional(),
              }),
            )
            .min(1),
        })
        .optional(),
    })
    .optional(),
  github: z
    .strictObject({
      apiUrl: z.string().url().optional(),
      app: z.strictObject({ id: z.number().int().positive(), privateKeyFile: z.string().min(1) }).optional(),
    })
    .optional(),
});

export type AgentConfigInput = z.input<typeof agentConfigSchema>;
