# The example worker's part of scripts/deploy-test, which sources this file
# once its checks that read the outcomes queue themselves are done (the
# worker takes every outcome off it), with its helpers (step, quiet, fail,
# output, checks) and variables (repo, work, stack, architecture, the
# checks' URL and port) set:
#
#   1. the worker's bootstrap (outcome/examples/worker.rs), built as the
#      receiver's, with cargo lambda in the same target directory, into
#      build/ beside a copy of examples/worker/template.yaml (its CodeUri);
#   2. `sam deploy` of that template on the stack's OutcomesQueueArn; its
#      role is named after its stack, so known before it exists, and the
#      stack's ConsumerPrincipalArns must name it;
#   3. tests/it/deployed/worker.rs: a signed delivery's outcome reaches the
#      worker's table through the queue and the SQS event source mapping,
#      once;
#   4. `sam delete` of the worker's stack.

worker_stack=$stack-worker

step "the example worker's release build (cargo lambda build --example worker)"
started_at=$SECONDS
mkdir -p "$work/worker"
cp "$repo/examples/worker/template.yaml" "$work/worker/"
# --x86-64 or --arm64, as the receiver's build.
(cd "$repo" && quiet cargo lambda build --release "--${architecture//_/-}" --example worker \
    -p gu1-outcome --features lambda --lambda-dir "$work/worker/build" --flatten worker)
echo "   $((SECONDS - started_at))s"

step "the example worker: sam deploy (examples/worker/template.yaml) on the stack's OutcomesQueueArn"
started_at=$SECONDS
(cd "$work/worker" && quiet sam deploy --stack-name "$worker_stack" --resolve-s3 \
    --capabilities CAPABILITY_NAMED_IAM --no-confirm-changeset \
    --parameter-overrides "OutcomesQueueArn=$(output OutcomesQueueArn)" "Architecture=$architecture")
worker_role=$(output WorkerRoleArn "$worker_stack")
consumers=$(aws cloudformation describe-stacks --stack-name "$stack" --output text \
    --query "Stacks[0].Parameters[?ParameterKey=='ConsumerPrincipalArns'].ParameterValue")
[[ ,$consumers, == *",$worker_role,"* ]] ||
    fail "the worker's role $worker_role is not in the stack's ConsumerPrincipalArns ($consumers)"
echo "   $((SECONDS - started_at))s; its role, in ConsumerPrincipalArns: $worker_role"

step "the example worker records a signed delivery's outcome (tests/it/deployed/worker.rs)"
checks GU1_DEPLOYED_STACK="$stack" GU1_DEPLOYED_WEBHOOK_URL="$webhook_url" \
    GU1_DEPLOYED_GU1_API_PORT="$gu1_api_port" \
    GU1_DEPLOYED_WORKER_TABLE="$(output WorkerTableName "$worker_stack")" \
    GU1_DEPLOYED_WORKER_FUNCTION="$(output WorkerFunctionName "$worker_stack")" deployed::worker::

step "sam delete (the example worker's stack)"
(cd "$work/worker" && quiet sam delete --stack-name "$worker_stack" --no-prompts)
