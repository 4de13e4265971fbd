/**
 * The dependency order of the libs (docs/architecture.md): each lib may import only the libs before
 * it. Entries in one inner array are siblings (neither imports the other). Libs named here that do
 * not exist yet constrain nothing.
 */
const LIB_ORDER = ['platform', 'dsl', 'governance', 'opamp', 'pki', 'fleet', 'rollouts', ['gitops', 'federation']];

/** Position of a lib in LIB_ORDER (siblings share one), or -1 for a lib not in the order (e.g. testing). */
function libLevel(lib) {
  return LIB_ORDER.findIndex((entry) => (Array.isArray(entry) ? entry.includes(lib) : entry === lib));
}

module.exports = { LIB_ORDER, libLevel };
