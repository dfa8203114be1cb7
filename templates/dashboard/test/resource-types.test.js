// Resource types as GET /api/me gives them (the API's registry).

import assert from "node:assert/strict";
import { test } from "node:test";

import { resourceTypes } from "../src/resource-types.js";

const FROM_THE_API = [
  { key: "ec2", name: "EC2 instance", serviceNames: ["amazonec2", "amazon elastic compute cloud - compute"] },
  { key: "s3", name: "S3 bucket", serviceNames: ["amazons3"] },
  { key: "rds", name: "RDS database", serviceNames: ["amazonrds"] },
  { key: "lambda", name: "Lambda function", serviceNames: ["awslambda", "aws lambda"] },
];

test("names by key; an unknown key as it is", () => {
  const types = resourceTypes(FROM_THE_API);
  assert.equal(types.name("ec2"), "EC2 instance");
  assert.equal(types.name("other"), "other");
  assert.equal(types.keysInWords(), "ec2, s3, rds or lambda");
});

test("the type to assign a resource as", () => {
  const types = resourceTypes(FROM_THE_API);
  assert.equal(types.typeOf("arn:aws:lambda:us-east-1:123456789012:function:f", "AWSLambda"), "lambda");
  assert.equal(types.typeOf("arn:aws:dynamodb:us-east-1:123456789012:table/t", "AmazonDynamoDB"), "other");
  assert.equal(types.typeOf("i-0abc", "AmazonEC2"), "ec2");
  assert.equal(types.typeOf("i-0abc", "Amazon Elastic Compute Cloud - Compute"), "ec2");
  assert.equal(types.typeOf("my-bucket", "AmazonS3"), "s3");
  assert.equal(types.typeOf("vpc-1", "AmazonVPC"), "other");
  assert.equal(types.typeOf("x", undefined), "other");
});

test("before GET /api/me answers, nothing is known by name", () => {
  const types = resourceTypes();
  assert.equal(types.name("ec2"), "ec2");
  assert.equal(types.keysInWords(), "");
  assert.equal(types.typeOf("i-0abc", "AmazonEC2"), "other");
});
