"""The access migration's Lambda function (a CloudFormation trigger on every deploy -> here)."""
