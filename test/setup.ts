import 'aws-sdk-client-mock-jest';

// handlers log and emit metrics as in Lambda; tests keep their output for failures only
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// no test reaches AWS: a client a test forgot to mock fails fast instead of looking for
// credentials on the network (instance metadata)
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';

import './polyfills';
