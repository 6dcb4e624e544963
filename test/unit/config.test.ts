import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const base = { ATELIER_DATA_DIR: '/tmp/atelier-config-test', JWT_SECRET: 'x'.repeat(40) };

describe('config', () => {
  it('has working defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ port: 4000, role: 'all', corsOrigins: ['http://localhost:4000'], executionProviders: ['cuda', 'cpu'], intraOpThreads: 1 });
    expect(loadConfig({ ...base, ATELIER_CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(config.databasePreparedStatements).toBe(true);
    expect(loadConfig({ ...base, ATELIER_DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements).toBe(false);
    expect(loadConfig({ ...base, ATELIER_DATABASE_PREPARED_STATEMENTS: '0' }).databasePreparedStatements).toBe(false);
    expect(loadConfig({ ...base, ATELIER_DATABASE_PREPARED_STATEMENTS: '1' }).databasePreparedStatements).toBe(true);
    expect(config.onnxCpuArena).toBe(true);
    expect(loadConfig({ ...base, ATELIER_ONNX_CPU_ARENA: 'false' }).onnxCpuArena).toBe(false);
  });

  it('fails fast on bad values, naming the variable', () => {
    expect(() => loadConfig({ ...base, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ...base, ATELIER_ROLE: 'boss' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', JWT_SECRET: '' })).toThrow(/JWT_SECRET is required/);
    expect(() => loadConfig({ ...base, ATELIER_CORS_ORIGINS: 'https://a.example.com/path' })).toThrow(/ATELIER_CORS_ORIGINS/);
    expect(() => loadConfig({ ...base, ATELIER_ADMIN_EMAIL: 'a@b.c' })).toThrow(/together/);
    expect(() => loadConfig({ ...base, ATELIER_DATABASE_PREPARED_STATEMENTS: 'no' })).toThrow(/ATELIER_DATABASE_PREPARED_STATEMENTS/);
    expect(() => loadConfig({ ...base, ATELIER_ONNX_CPU_ARENA: 'on' })).toThrow(/ATELIER_ONNX_CPU_ARENA/);
  });

  it('reads the webhook network allowlist as CIDRs and refuses anything else', () => {
    expect(loadConfig(base).webhookAllowedNetworks).toEqual([]);
    expect(loadConfig({ ...base, ATELIER_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1, 10.0.0.0/8, ::1' }).webhookAllowedNetworks)
      .toEqual(['127.0.0.1/32', '10.0.0.0/8', '::1/128']);
    expect(() => loadConfig({ ...base, ATELIER_WEBHOOK_ALLOWED_NETWORKS: 'localhost' })).toThrow(/ATELIER_WEBHOOK_ALLOWED_NETWORKS/);
    expect(() => loadConfig({ ...base, ATELIER_AUDIT_RETENTION_DAYS: '0' })).toThrow(/ATELIER_AUDIT_RETENTION_DAYS/);
  });

  it('probes backend endpoints every 15 s by default; 0 turns probing off, 1-99 ms is refused', () => {
    expect(loadConfig(base).backends.probeEveryMs).toBe(15_000);
    expect(loadConfig({ ...base, ATELIER_BACKEND_PROBE_MS: '0' }).backends.probeEveryMs).toBe(0);
    expect(loadConfig({ ...base, ATELIER_BACKEND_PROBE_MS: '250' }).backends.probeEveryMs).toBe(250);
    expect(() => loadConfig({ ...base, ATELIER_BACKEND_PROBE_MS: '5' })).toThrow(/ATELIER_BACKEND_PROBE_MS/);
    expect(() => loadConfig({ ...base, ATELIER_BACKEND_PROBE_MS: '-1' })).toThrow(/ATELIER_BACKEND_PROBE_MS/);
  });

  it('accepts a list of allowed origins', () => {
    expect(loadConfig({ ...base, ATELIER_CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins)
      .toEqual(['https://a.example.com', 'http://localhost:5173']);
  });

  it('single sign-on: off by default, on with issuer, client id and secret', () => {
    expect(loadConfig(base).oidc).toBeUndefined();
    const oidc = { ATELIER_OIDC_ISSUER: 'https://id.example.com/realms/team', ATELIER_OIDC_CLIENT_ID: 'atelier', ATELIER_OIDC_CLIENT_SECRET: 's3cret' };
    expect(loadConfig({ ...base, ...oidc }).oidc).toEqual({
      issuer: 'https://id.example.com/realms/team', clientId: 'atelier', clientSecret: 's3cret', name: 'id.example.com',
    });
    expect(loadConfig({ ...base, ...oidc, ATELIER_OIDC_NAME: 'Team SSO' }).oidc?.name).toBe('Team SSO');
    expect(loadConfig({ ...base, ...oidc, ATELIER_OIDC_ISSUER: 'http://localhost:9000' }).oidc?.issuer).toBe('http://localhost:9000');
  });

  it('single sign-on: refuses incomplete or unsafe settings, naming the variable', () => {
    const oidc = { ATELIER_OIDC_ISSUER: 'https://id.example.com', ATELIER_OIDC_CLIENT_ID: 'atelier', ATELIER_OIDC_CLIENT_SECRET: 's3cret' };
    expect(() => loadConfig({ ...base, ...oidc, ATELIER_OIDC_CLIENT_SECRET: '' })).toThrow(/ATELIER_OIDC_CLIENT_SECRET is required/);
    expect(() => loadConfig({ ...base, ...oidc, ATELIER_OIDC_CLIENT_ID: ' ' })).toThrow(/ATELIER_OIDC_CLIENT_ID is required/);
    expect(() => loadConfig({ ...base, ATELIER_OIDC_CLIENT_ID: 'atelier' })).toThrow(/ATELIER_OIDC_CLIENT_ID is set but ATELIER_OIDC_ISSUER/);
    expect(() => loadConfig({ ...base, ...oidc, ATELIER_OIDC_ISSUER: 'not a url' })).toThrow(/ATELIER_OIDC_ISSUER is not a valid URL/);
    expect(() => loadConfig({ ...base, ...oidc, ATELIER_OIDC_ISSUER: 'http://id.example.com' })).toThrow(/ATELIER_OIDC_ISSUER must use https/);
    expect(() => loadConfig({ ...base, ...oidc, ATELIER_OIDC_ISSUER: 'https://id.example.com/?x=1' })).toThrow(/ATELIER_OIDC_ISSUER must be the issuer/);
    expect(() => loadConfig({ ...base, ...oidc, ATELIER_OIDC_NAME: 'x'.repeat(41) })).toThrow(/ATELIER_OIDC_NAME/);
  });

  it('chooses the training backend: local by default, kohya in its folder, or a command line given as a JSON array', () => {
    expect(loadConfig(base).trainer).toEqual({ kind: 'local' });
    expect(loadConfig({ ...base, ATELIER_TRAINER: 'kohya', ATELIER_TRAINER_DIR: '/opt/sd-scripts' }).trainer).toEqual({ kind: 'kohya', cwd: '/opt/sd-scripts' });
    expect(loadConfig({ ...base, ATELIER_TRAINER: 'command', ATELIER_TRAINER_COMMAND: '["train","--out","{output_dir}"]' }).trainer)
      .toEqual({ kind: 'command', command: ['train', '--out', '{output_dir}'], resumeArgs: ['--resume', '{resume_dir}'], cwd: null });
    expect(() => loadConfig({ ...base, ATELIER_TRAINER: 'kohya_ss' })).toThrow(/ATELIER_TRAINER must be one of/);
    expect(() => loadConfig({ ...base, ATELIER_TRAINER: 'command' })).toThrow(/ATELIER_TRAINER_COMMAND is required/);
    expect(() => loadConfig({ ...base, ATELIER_TRAINER: 'command', ATELIER_TRAINER_COMMAND: 'python train.py' })).toThrow(/JSON array of strings/);
    expect(() => loadConfig({ ...base, ATELIER_TRAINER_COMMAND: '["train"]' })).toThrow(/ATELIER_TRAINER is not "command"/);
  });
});
