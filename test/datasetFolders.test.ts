/** Which datasets a saved file belongs to, for refresh-on-save. */
import assert from 'node:assert/strict';
import { datasetsHolding, refreshableDatasets } from '../src/shared/datasetFolders';
import type { DatasetResult } from '../src/core/results';

const ds = (name: string, source?: string) => ({ name, ...(source ? { source } : {}), texts: 1, tokens: 1, skipped: [], records: [], moments: { layers: [] }, layers: [] }) as DatasetResult;

describe('dataset folders', () => {
  it('only datasets profiled from one absolute folder or file can be refreshed', () => {
    const folders = refreshableDatasets([ds('cpp', '/w/cpp'), ds('selection: a.py:1-2'), ds('merged', '/w/a, /w/b'), ds('rel', 'cpp')]);
    assert.deepEqual(folders, [{ name: 'cpp', folder: '/w/cpp' }]);
  });

  it('a saved file belongs to the datasets whose folder holds it (or that are the file)', () => {
    const folders = [{ name: 'cpp', folder: '/w/cpp' }, { name: 'all', folder: '/w' }, { name: 'one', folder: '/w/py/a.py' }, { name: 'cpp2', folder: '/w/cpp2' }];
    assert.deepEqual(datasetsHolding('/w/cpp/x/y.cpp', folders).map((d) => d.name), ['cpp', 'all']);
    assert.deepEqual(datasetsHolding('/w/py/a.py', folders).map((d) => d.name), ['all', 'one']);
    assert.deepEqual(datasetsHolding('/elsewhere/z.py', folders), []);
  });
});
