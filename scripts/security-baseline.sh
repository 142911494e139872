# The security baseline's part of scripts/deploy-test (issue 18), which
# sources this file once the emulator runs and the webhook secret exists,
# with its helpers (step, quiet, fail, checks) and variables (repo, work,
# stack, secret_name, api_key_name) set:
#
#   1. now: customer KMS keys (aws kms create-key) for the table, the queues,
#      the log groups and the Gu1 API key's secret (deploy-test creates that
#      secret with --kms-key-id "$api_key_kms_key"); the permissions
#      boundary, a managed policy allowing exactly the functions' calls on
#      the stack's resources; and security_parameters, every security
#      parameter of the template set, and Tracing=Active, for the first
#      deploy (SecretKmsKeyArn stays empty: the webhook secret is README
#      step 1's, under the default key);
#   2. security_boundaries, right after that deploy: the boundary put on each
#      role through the IAM API. MiniStack 1.5.33's AWS::IAM::Role drops
#      PermissionsBoundary (get-role shows none; SAM does write it on each
#      role of the processed template), while a boundary set through the IAM
#      API is enforced under AUTH=true: every check that follows runs under
#      it, so it must allow what the functions do;
#   3. security_defaults, after the "nothing to change" deploy: the API key's
#      secret back under the default key, then `sam deploy` with every one
#      of these parameters empty (Tracing=PassThrough), the boundaries taken
#      off as CloudFormation would, and tests/it/deployed/security.rs again:
#      all back to the defaults, and a signed delivery applied and published.
#
# What MiniStack 1.5.33 does with them (tests/it/deployed/security.rs holds
# what it keeps): it takes every parameter, and
#   - keeps Tracing (get-function-configuration), the queues' KmsMasterKeyId,
#     the log groups' kmsKeyId, the secret's KmsKeyId, the roles' kms: grants;
#   - drops the table's SSESpecification at creation (describe-table shows no
#     SSEDescription), so the table's key is checked only through the grants;
#     the second deploy's update hands UpdateTable CloudFormation's
#     SSEEnabled where it reads Enabled: the AWS-managed key, status DISABLED;
#   - enforces no key: no service calls KMS (a grant or a key policy missing
#     would go unnoticed: the grants are read from IAM, the simulator shows
#     that no role may use a key outside its service, kms:ViaService unset).

step "security baseline: customer keys, the permissions boundary (a managed policy)"
security_account=$(aws sts get-caller-identity --query Account --output text)
region_account="$AWS_REGION:$security_account"
# new_key DESCRIPTION [POLICY]: a symmetric customer key's ARN.
new_key() {
    aws kms create-key --description "$1" ${2:+--policy "$2"} --query KeyMetadata.Arn --output text
}
table_kms_key=$(new_key "deploy-test: the sessions table")
queue_kms_key=$(new_key "deploy-test: the queues")
api_key_kms_key=$(new_key "deploy-test: the Gu1 API key's secret")
# CloudWatch Logs uses a key only if its key policy names the service.
logs_kms_key=$(new_key "deploy-test: the log groups" "$(cat <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$security_account:root"},
   "Action": "kms:*", "Resource": "*"},
  {"Effect": "Allow", "Principal": {"Service": "logs.$AWS_REGION.amazonaws.com"},
   "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
   "Resource": "*"}]}
JSON
)")
# The boundary: the union of what the three roles may do (tests/it/deployed/
# roles.rs), on the stack's own resources and keys only, and the traces
# Tracing=Active writes.
boundary_policy=$(aws iam create-policy --policy-name "$stack-boundary" --query Policy.Arn --output text \
    --policy-document "$(cat <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Sid": "Table", "Effect": "Allow",
   "Action": ["dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DescribeTimeToLive"],
   "Resource": "arn:aws:dynamodb:$region_account:table/$stack-*"},
  {"Sid": "Queues", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
   "Resource": "arn:aws:sqs:$region_account:$stack-*"},
  {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
   "Resource": ["arn:aws:secretsmanager:$region_account:secret:$secret_name-*",
                "arn:aws:secretsmanager:$region_account:secret:$api_key_name-*"]},
  {"Sid": "Keys", "Effect": "Allow",
   "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
              "kms:DescribeKey"],
   "Resource": ["$table_kms_key", "$queue_kms_key", "$api_key_kms_key"]},
  {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
   "Resource": "arn:aws:logs:$region_account:log-group:/aws/lambda/$stack-*"},
  {"Sid": "Traces", "Effect": "Allow",
   "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
              "xray:GetSamplingTargets"],
   "Resource": "*"}]}
JSON
)")
security_parameters=(Tracing=Active "TableKmsKeyArn=$table_kms_key" "QueueKmsKeyArn=$queue_kms_key"
    "LogsKmsKeyArn=$logs_kms_key" "Gu1ApiKeyKmsKeyArn=$api_key_kms_key"
    "PermissionsBoundaryArn=$boundary_policy")
printf '   %s\n' "${security_parameters[@]}"

# roles: the stack's roles (one per function, tests/it/deployed/roles.rs).
roles() {
    aws cloudformation describe-stack-resources --stack-name "$stack" --output text \
        --query "StackResources[?ResourceType=='AWS::IAM::Role'].PhysicalResourceId"
}

security_boundaries() {
    step "the permissions boundary on each role (the IAM API: MiniStack's CloudFormation drops it)"
    local role
    for role in $(roles); do
        quiet aws iam put-role-permissions-boundary --role-name "$role" --permissions-boundary "$boundary_policy"
        echo "   $role"
    done
}

security_defaults() {
    step "a second sam deploy: every security parameter empty, Tracing=PassThrough"
    local started_at=$SECONDS role
    # First the secret back under the default key, while reconciliation may
    # still decrypt it under the customer key.
    quiet aws secretsmanager update-secret --secret-id "$api_key_name" --kms-key-id alias/aws/secretsmanager
    (cd "$work" && quiet sam deploy --config-file "$config" --no-confirm-changeset \
        --parameter-overrides Tracing=PassThrough 'TableKmsKeyArn=""' 'QueueKmsKeyArn=""' 'LogsKmsKeyArn=""' \
        'Gu1ApiKeyKmsKeyArn=""' 'PermissionsBoundaryArn=""')
    # What CloudFormation does on AWS with PermissionsBoundary gone.
    for role in $(roles); do
        quiet aws iam delete-role-permissions-boundary --role-name "$role"
    done
    echo "   $((SECONDS - started_at))s"

    step "back to the defaults, and a signed delivery still applied (tests/it/deployed/security.rs)"
    checks GU1_DEPLOYED_STACK="$stack" GU1_DEPLOYED_WEBHOOK_URL="$webhook_url" \
        GU1_DEPLOYED_GU1_API_PORT="$gu1_api_port" GU1_DEPLOYED_SECURITY=defaults deployed::security::
}
