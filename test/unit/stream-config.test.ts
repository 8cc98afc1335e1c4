import test from 'ava';

import { loadConfig } from '../../src/config/config.js';

test('KINESIS_STREAMS names each stream with its kind; the AWS variables give region and endpoint', (t) => {
  const config = loadConfig({
    KINESIS_STREAMS: 'ev-meter-readings:meter,ev.vehicles_2:vehicle',
    AWS_DEFAULT_REGION: 'eu-central-1',
    AWS_ENDPOINT_URL: 'http://localhost:4568',
  });
  t.deepEqual(config.kinesis.streams, [
    { name: 'ev-meter-readings', kind: 'meter' },
    { name: 'ev.vehicles_2', kind: 'vehicle' },
  ]);
  t.is(config.kinesis.region, 'eu-central-1');
  t.is(config.kinesis.endpoint, 'http://localhost:4568');
  t.true(config.kinesis.inService);
  t.is(config.kinesis.initialPosition, 'TRIM_HORIZON');
  t.deepEqual(loadConfig({}).kinesis.streams, []);
  t.is(loadConfig({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-central-1' }).kinesis.region, 'us-west-2');
  t.throws(() => loadConfig({ KINESIS_STREAMS: 'readings' }), { message: /KINESIS_STREAMS/ });
  t.throws(() => loadConfig({ KINESIS_STREAMS: 'a:meter,a:vehicle' }), { message: /names a stream twice/ });
  t.throws(() => loadConfig({ KINESIS_MAX_RECORDS: '20000' }), { message: /KINESIS_MAX_RECORDS/ });
  t.false(loadConfig({ KINESIS_CONSUME_IN_SERVICE: 'false' }).kinesis.inService);
});
