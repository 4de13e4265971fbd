import { defineQueue } from '@ampora/platform';

/** Audit retention (issue 17): the worker's AuditArchivalProcessor answers the sweep. */
export const AUDIT_ARCHIVAL_QUEUE = defineQueue('audit-archival', {
  sweep: 'audit-archival.sweep',
});

/** The job scheduler of the sweep (every AMPORA_AUDIT_SWEEP_MINUTES), registered by the worker. */
export const AUDIT_SWEEP_SCHEDULER_ID = 'audit-archival-sweep';
