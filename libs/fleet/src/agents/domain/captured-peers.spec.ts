import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableComponentsToJson, configContentHash, configMapToFiles, decodeAgentToServer, toHex } from '@ampora/opamp';
import { availableComponentsView } from './available-components';
import { assessDrift } from './config-drift';

/** Messages the real Supervisor and Collector (contrib v0.158.0) sent, captured by the interop suite. */
const dir = join(__dirname, '__fixtures__', 'captured');
function captured(name: string) {
  const decoded = decodeAgentToServer(readFileSync(join(dir, name)));
  if (!decoded.ok) throw new Error(`${name}: ${decoded.reason}`);
  return decoded.message;
}
const effectiveText = (name: string) => {
  const files = configMapToFiles(captured(name).effectiveConfig!.configMap);
  return { text: Object.values(files).map((f) => Buffer.from(f.body).toString('utf8')).join('\n'), hash: configContentHash(files) };
};
const remote = readFileSync(join(dir, 'remote.yaml'), 'utf8');
const appliedHash = toHex(captured('supervisor-07.bin').remoteConfigStatus!.lastRemoteConfigHash);

describe('captured messages of the real peers', () => {
  it('the Supervisor echoes the hash it applied', () => {
    const status = captured('supervisor-07.bin').remoteConfigStatus!;
    expect(status.status).toBe(1); // APPLIED
    expect(appliedHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['supervisor-05.bin', 'the Collector\'s effective config, defaults written out'],
    ['supervisor-03.bin', 'the Supervisor\'s merged config'],
  ])('no drift for %s (%s) against the remote config it was sent', (name) => {
    const effective = effectiveText(name);
    const d = assessDrift({ assignedHash: appliedHash, assignedContentHash: 'x', assignedText: remote, effectiveContentHash: effective.hash, effectiveText: effective.text, reportedHash: appliedHash });
    expect(d.differences.filter((x) => x.counts)).toEqual([]);
    expect(d.drift).toBe(false);
    // the opamp extension the Supervisor added is listed, not counted
    expect(d.differences).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'component_added', component: 'opamp', counts: false })]));
  });

  it('drift on the same capture when the Supervisor reports another hash, or the assignment states another value', () => {
    const effective = effectiveText('supervisor-05.bin');
    const base = { assignedHash: appliedHash, assignedContentHash: 'x', assignedText: remote, effectiveContentHash: effective.hash, effectiveText: effective.text, reportedHash: appliedHash };
    expect(assessDrift({ ...base, assignedHash: 'f'.repeat(64) }).drift).toBe(true);
    expect(assessDrift({ ...base, assignedText: remote.replace('127.0.0.1:0', '0.0.0.0:4318') }).drift).toBe(true);
  });

  it.each([['supervisor-02.bin'], ['extension-02.bin']])('%s: available components by kind with module versions', (name) => {
    const view = availableComponentsView(availableComponentsToJson(captured(name).availableComponents!))!;
    expect(view.components).toEqual(['connectors', 'exporters', 'extensions', 'processors', 'receivers']);
    expect(view.byKind.receivers).toEqual([expect.objectContaining({ name: 'otlp', module: 'go.opentelemetry.io/collector/receiver/otlpreceiver', version: 'v0.158.0' })]);
    expect(view.byKind.exporters!.map((c) => c.name)).toEqual(['debug', 'nop', 'otlp_http']);
    expect(view.byKind.extensions![0]).toMatchObject({ name: 'opamp', module: 'github.com/open-telemetry/opentelemetry-collector-contrib/extension/opampextension' });
  });
});
