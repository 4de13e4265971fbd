import { FormEvent, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router-dom';
import { get, Page, post } from '../api/client';
import { Rollout, VersionSummary } from '../api/types';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { useConfigurations } from './Configurations';
import { useGroups } from './Fleet';

type Strategy = 'Canary' | 'Percentage' | 'Batch';

interface CanaryStep {
  percent: number;
  dwellSeconds: number;
}

const GATES: Array<{ key: string; label: string }> = [
  { key: 'applyFailedRatio', label: 'Apply failures above' },
  { key: 'unhealthyRatio', label: 'Unhealthy agents above' },
  { key: 'effectiveMismatchRatio', label: 'Effective config mismatches above' },
  { key: 'disconnectRatio', label: 'Disconnects above' },
];

/** Parses "10:30, 50:60, 100" into canary steps (percent:dwell seconds); throws on a bad entry. */
export function parseCanarySteps(text: string): CanaryStep[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [p, d = '0'] = s.split(':').map((x) => x.trim());
      const percent = Number(p);
      const dwellSeconds = Number(d);
      if (!Number.isFinite(percent) || percent <= 0 || percent > 100 || !Number.isInteger(dwellSeconds) || dwellSeconds < 0) throw new Error(`"${s}" is not percent:dwellSeconds`);
      return { percent, dwellSeconds };
    });
}

/** The rollout wizard: version, group, strategy with steps, gates, dwell, auto-advance; created and started. */
export function NewRolloutPage() {
  const path = useTenantPath();
  const navigate = useNavigate();
  const configurations = useConfigurations();
  const groups = useGroups();
  const [name, setName] = useState('');
  const [configurationId, setConfigurationId] = useState('');
  const [version, setVersion] = useState('');
  const [groupId, setGroupId] = useState('');
  const [strategy, setStrategy] = useState<Strategy>('Canary');
  const [steps, setSteps] = useState('10:5, 50:5, 100');
  const [batchSize, setBatchSize] = useState('10');
  const [autoAdvance, setAutoAdvance] = useState(true);
  const [dwell, setDwell] = useState('0');
  const [gates, setGates] = useState<Record<string, string>>({});
  const [startNow, setStartNow] = useState(true);
  const versions = useQuery({
    queryKey: ['configurations', configurationId, 'versions'],
    queryFn: () => get<Page<VersionSummary>>(`/api/configurations/${configurationId}/versions`, { limit: 100 }),
    enabled: !!configurationId,
  });
  const published = versions.data?.items.filter((v) => v.status === 'Published') ?? [];
  const create = useMutation({
    mutationFn: async () => {
      const strategyBody =
        strategy === 'Canary' ? { type: 'Canary', steps: parseCanarySteps(steps) } : strategy === 'Percentage' ? { type: 'Percentage', steps: steps.split(',').map((s) => Number(s.split(':')[0])) } : { type: 'Batch', batchSize: Number(batchSize) };
      const gateBody = Object.fromEntries(Object.entries(gates).filter(([, v]) => v !== '').map(([k, v]) => [k, Number(v) / 100]));
      const r = await post<Rollout>('/api/rollouts', {
        name: name.trim(),
        configurationId,
        version: Number(version),
        groupId,
        strategy: strategyBody,
        gates: gateBody,
        autoAdvance,
        ...(strategy !== 'Canary' ? { dwellSeconds: Number(dwell) } : {}),
      });
      if (startNow) await post(`/api/rollouts/${r.id}/start`);
      return r;
    },
    onSuccess: (r) => navigate(path(`rollouts/${r.id}`)),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <>
      <h1>New rollout</h1>
      <form className="panel wizard" onSubmit={submit} aria-label="New rollout">
        <fieldset>
          <legend>1. What and where</legend>
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
          </label>
          <label>
            Configuration
            <select value={configurationId} onChange={(e) => (setConfigurationId(e.target.value), setVersion(''))} required>
              <option value="">Choose…</option>
              {configurations.data?.items.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Published version
            <select value={version} onChange={(e) => setVersion(e.target.value)} required disabled={!configurationId}>
              <option value="">Choose…</option>
              {published.map((v) => (
                <option key={v.number} value={v.number}>
                  v{v.number}
                </option>
              ))}
            </select>
          </label>
          <label>
            Group
            <select value={groupId} onChange={(e) => setGroupId(e.target.value)} required>
              <option value="">Choose…</option>
              {groups.data?.items.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name} ({g.memberCount} agents)
                </option>
              ))}
            </select>
          </label>
        </fieldset>
        <fieldset>
          <legend>2. Strategy</legend>
          <label>
            Strategy
            <select value={strategy} onChange={(e) => setStrategy(e.target.value as Strategy)}>
              <option>Canary</option>
              <option>Percentage</option>
              <option>Batch</option>
            </select>
          </label>
          {strategy === 'Batch' ? (
            <label>
              Agents per batch
              <input type="number" min={1} value={batchSize} onChange={(e) => setBatchSize(e.target.value)} />
            </label>
          ) : (
            <label>
              Steps {strategy === 'Canary' ? '(percent:dwell seconds, comma-separated)' : '(percentages, comma-separated, ending at 100)'}
              <input value={steps} onChange={(e) => setSteps(e.target.value)} />
            </label>
          )}
          <label className="check">
            <input type="checkbox" checked={autoAdvance} onChange={(e) => setAutoAdvance(e.target.checked)} /> Advance by itself after each step
          </label>
          {strategy !== 'Canary' ? (
            <label>
              Dwell after each step (seconds)
              <input type="number" min={0} value={dwell} onChange={(e) => setDwell(e.target.value)} />
            </label>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>3. Health gates (percent; empty takes the tenant default)</legend>
          {GATES.map((g) => (
            <label key={g.key}>
              {g.label} (%)
              <input type="number" min={0} max={100} step="any" value={gates[g.key] ?? ''} onChange={(e) => setGates({ ...gates, [g.key]: e.target.value })} />
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={startNow} onChange={(e) => setStartNow(e.target.checked)} /> Start it now
        </label>
        <Guarded role="Operator" type="submit" className="primary" disabled={create.isPending}>
          Create rollout
        </Guarded>
        <ProblemView error={create.error} />
      </form>
    </>
  );
}
