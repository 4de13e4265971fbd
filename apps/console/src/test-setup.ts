import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// a loaded two-core CI machine renders slowly: findBy*/waitFor wait up to 5 s (not 1 s)
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});
