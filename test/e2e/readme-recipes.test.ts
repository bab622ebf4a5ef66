/**
 * The README's recipes for unattended runs work as written: the cron line (a watched folder)
 * mails the tool's own exit code and logs one JSON line even when the night fails; the systemd
 * units (service, timer, path) parse.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const cli = join(root, 'dist', 'cli.js');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).error === undefined;

describe("the README's cron line", () => {
  const line = /```cron\n(.*)\n```/.exec(readme)![1]!;
  const command = line.split(/\s+/).slice(5).join(' ');

  let sb: Sandbox | undefined;
  afterAll(async () => {
    await sb?.close();
  });

  it('mails the exit code of recharge-batch itself and logs one JSON object, also for a night that ends in exit 2', async () => {
    sb = await startSandbox({ apiKey: 'sk_cron_test' });
    const dir = tempDir();
    // the machine of the recipe, in a temp folder: the paths, the key file, a mail that records
    const paths = {
      srv: join(dir, 'srv', 'payroll'),
      etc: join(dir, 'etc'),
      log: join(dir, 'log'),
      bin: join(dir, 'bin'),
    };
    for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
    mkdirSync(join(paths.srv, 'incoming'));
    writeFileSync(join(paths.etc, 'key'), 'sk_cron_test\n');
    // a file with no mobile number column: usage error, exit 2, nothing sent
    writeFileSync(join(paths.srv, 'incoming', 'allowance.csv'), 'name,amount\nA,100\n');
    writeFileSync(join(paths.bin, 'mail'), `#!/bin/sh\necho "$2" > ${join(dir, 'mail.txt')}\n`);
    chmodSync(join(paths.bin, 'mail'), 0o755);
    const local = command
      .replaceAll('/srv/payroll', paths.srv)
      .replaceAll('/etc/recharge-batch/key', join(paths.etc, 'key'))
      .replaceAll('/var/log/', `${paths.log}/`)
      .replaceAll('/usr/bin/recharge-batch', `${process.execPath} ${cli}`);
    // not spawnSync: the sandbox answers from this process
    const status = await new Promise<number | null>((resolve) => {
      const child = spawn('/bin/sh', ['-c', local], {
        stdio: 'ignore',
        env: {
          PATH: `${paths.bin}:${process.env.PATH}`,
          HOME: dir,
          RECHARGE_BATCH_STATE_DIR: join(dir, 'state'),
          ALSAMIFLEXI_BASE_URL: sb!.url,
        },
      });
      child.on('exit', (code) => resolve(code));
    });
    expect(status).toBe(0); // the mail ran
    expect(readFileSync(join(dir, 'mail.txt'), 'utf8').trim()).toBe(
      'recharge-batch needs attention (exit 2)',
    );
    const logged = readFileSync(join(paths.log, 'recharge-batch.json'), 'utf8').trim().split('\n');
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({
      exit_code: 2,
      files: [{ exit_code: 2, moved_to: 'rejected', error: expect.any(String) }],
    });
    expect(readFileSync(join(paths.log, 'recharge-batch.err'), 'utf8')).toContain('error:');
    // the night's file is filed with its one line, out of the way of the next night
    expect(readFileSync(join(paths.srv, 'incoming', 'rejected', 'allowance.error.txt'), 'utf8')).toMatch(
      /column/i,
    );
    expect(sb.ledger()).toHaveLength(0);
  });
});

describe("the README's systemd units", () => {
  const block = [...readme.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
  const parts = block.split(/^# (\/etc\/systemd\/system\/\S+)\n/m);
  const units = new Map<string, string>();
  for (let i = 1; i < parts.length; i += 2) units.set(parts[i]!.split('/').at(-1)!, parts[i + 1]!);

  it('hold a service, a timer and a path unit, with comments only on lines of their own (systemd reads a trailing "# …" as part of the value)', () => {
    expect([...units.keys()].sort()).toEqual([
      'recharge-batch.path',
      'recharge-batch.service',
      'recharge-batch.timer',
    ]);
    expect(units.get('recharge-batch.path')).toMatch(/^PathChanged=\/srv\/payroll\/incoming$/m);
    expect(units.get('recharge-batch.service')).toMatch(
      /^ExecStart=\/usr\/bin\/recharge-batch watch \/srv\/payroll\/incoming --once/m,
    );
    for (const text of units.values()) {
      for (const l of text.split('\n')) if (/^\w+=/.test(l)) expect(l).not.toMatch(/\s#/);
    }
  });

  it.runIf(hasSystemdAnalyze)('pass systemd-analyze verify', () => {
    const dir = tempDir();
    for (const [name, text] of units)
      writeFileSync(
        join(dir, name),
        text.replaceAll('/usr/bin/recharge-batch', `${process.execPath} ${cli}`),
      );
    const r = spawnSync(
      'systemd-analyze',
      ['verify', '--man=no', ...[...units.keys()].map((n) => join(dir, n))],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
  });
});
