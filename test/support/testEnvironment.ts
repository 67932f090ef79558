/**
 * The environment every test (and every CLI it starts) runs in: no record cache unless a test
 * names one, so runs do not answer each other from ~/.cache and repeated runs really run.
 */
process.env.LAYER_PROFILER_RECORD_CACHE = 'off';
