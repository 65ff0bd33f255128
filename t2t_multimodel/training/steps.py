"""The compiled train and eval steps of the custom training loop.

Each step is written as a per-replica function (`replica_train_step`) run with
`strategy.run` inside a `tf.function` with a shape-relaxed input signature,
so length-bucketed batches of any shape share one trace, and the same code
serves one device, MirroredStrategy and MultiWorkerMirroredStrategy (whose
Keras `fit` is broken in TF 2.21, tensorflow#72388; a custom loop works).

Statistics are returned as sums (correct tokens, non-pad tokens, ...) so that
they can be summed over batches and replicas before dividing.
"""

import keras
import tensorflow as tf

from t2t_multimodel.errors import T2TError


def relaxed_signature(element_spec):
    """`element_spec` with unknown dimensions: one trace for all shapes.

    The channel (last) dimension of a rank >= 3 feature (images, audio
    frames) stays as it is: the modalities need it.
    """

    def relax(spec):
        shape = [None] * spec.shape.rank
        if spec.shape.rank >= 3:
            shape[-1] = spec.shape[-1]
        return tf.TensorSpec(shape, spec.dtype)

    return tf.nest.map_structure(relax, element_spec)


def _signature(spec):
    """Relaxed TensorSpecs; a distributed dataset's PerReplicaSpecs as they are."""
    if all(isinstance(s, tf.TensorSpec) for s in tf.nest.flatten(spec)):
        return relaxed_signature(spec)
    return spec


def _targets_2d(features):
    targets = tf.cast(features["targets"], tf.int32)
    if targets.shape.rank == 1:
        targets = targets[:, None]
    return targets


def token_statistics(features, logits, weights=None):
    """Sums over the weighted target tokens of a batch (teacher-forced logits).

    `weights` [B, T] defaults to the non-pad targets (id 0 is padding); a
    class-label target weighs every example (`model.target_weights`).

    Returns a dict of float32 scalars: `tokens` (non-pad targets), `correct`
    (argmax right), `correct_top5`, `sequences`, `correct_sequences` (every
    non-pad token right) and `neg_log_likelihood` (summed cross entropy,
    without label smoothing).
    """
    targets = _targets_2d(features)
    logits = tf.cast(logits, tf.float32)
    logits = tf.reshape(logits, tf.concat([tf.shape(targets), tf.shape(logits)[-1:]], 0))
    if weights is None:
        weights = tf.not_equal(targets, 0)
    weights = tf.cast(tf.reshape(weights, tf.shape(targets)), tf.float32)
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    correct = tf.cast(tf.equal(predictions, targets), tf.float32) * weights
    flat_logits = tf.reshape(logits, [-1, tf.shape(logits)[-1]])
    top5 = tf.math.in_top_k(tf.reshape(targets, [-1]), flat_logits, 5)
    top5 = tf.reshape(tf.cast(top5, tf.float32), tf.shape(targets)) * weights
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    wrong_per_sequence = tf.reduce_sum(weights - correct, axis=1)
    return {
        "tokens": tf.reduce_sum(weights),
        "correct": tf.reduce_sum(correct),
        "correct_top5": tf.reduce_sum(top5),
        "sequences": tf.cast(tf.shape(targets)[0], tf.float32),
        "correct_sequences": tf.reduce_sum(tf.cast(tf.equal(wrong_per_sequence, 0.0),
                                                   tf.float32)),
        "neg_log_likelihood": tf.reduce_sum(xent * weights),
    }


def input_tokens(features):
    """Non-pad input plus target tokens of a batch (for tokens/s)."""
    total = tf.reduce_sum(tf.cast(tf.not_equal(_targets_2d(features), 0), tf.float32))
    inputs = features.get("inputs")
    # Token ids only: pixels and waveform samples are not tokens.
    if inputs is not None and inputs.dtype.is_integer and inputs.shape.rank == 2:
        total += tf.reduce_sum(tf.cast(tf.not_equal(inputs, 0), tf.float32))
    return total


def _weights(model, features):
    return model.target_weights(_targets_2d(features))


def model_loss(model, features, logits):
    """`model.loss(features, logits)` plus the auxiliary losses of the call."""
    loss = tf.cast(model.loss(features, logits), tf.float32)
    aux = [tf.cast(x, tf.float32) for x in model.losses]
    if aux:
        loss += tf.add_n(aux)
    return loss


def _forward(model, features):
    """`(logits, aux_losses)` of a training call, safe in a replica thread.

    Keras keeps `add_loss` values in lists on the layers, shared by every
    replica; MirroredStrategy runs its replicas in threads that take turns
    at each synchronised variable update (the MoE's statistics), so
    `model.losses` would mix the replicas' losses. A `StatelessScope` keeps
    this thread's losses and variable updates apart; the updates (MoE
    statistics, random seed states) are applied after the call.
    """
    with keras.StatelessScope(collect_losses=True) as scope:
        logits = model(features, training=True)
    aux = [tf.cast(x, tf.float32) for x in scope.losses]
    for variable in model.variables:
        value = scope.get_current_value(variable)
        if value is not None:
            variable.assign(value)
    return logits, aux


def _reduce(strategy, per_replica):
    return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
            for k, v in per_replica.items()}


def check_xla_support(model, strategy=None):
    """Raises `T2TError` when `xla_compile=true` cannot compile `model`'s step.

    A layer with `supports_jit = False` (the MixtureOfExperts: its expert
    buffers' size depends on the number of real tokens) cannot be compiled,
    nor can one step over several replicas (`strategy.run` inside XLA).
    """
    strategy = strategy or tf.distribute.get_strategy()
    if strategy.num_replicas_in_sync > 1:
        raise T2TError(
            "xla_compile=true compiles a one-device train step; this run has "
            f"{strategy.num_replicas_in_sync} replicas. Set xla_compile=false or train on one "
            "device. Received: xla_compile=True")
    for layer in model._flatten_layers(include_self=True):
        if not getattr(layer, "supports_jit", True):
            hint = " (or use_moe=false)" if "moe" in layer.name else ""
            raise T2TError(
                f"xla_compile=true cannot compile layer {layer.name!r} "
                f"({type(layer).__name__}): its shapes depend on the data. Set "
                f"xla_compile=false{hint}. Received: xla_compile=True")


def make_train_step(model, optimizer, step, element_spec, strategy=None, jit_compile=False):
    """A compiled `train_step(features) -> dict` that updates `model`.

    Under a `tf.distribute` strategy the per-replica step runs with
    `strategy.run`; each replica's loss is its summed token loss divided by
    the tokens of the *global* batch (all replicas), plus its auxiliary
    losses divided by the number of replicas, so the gradients the
    optimizer sums over replicas are those of the global batch's mean loss.
    With one replica this is the plain mean loss.

    Args:
        model: a built `T2TModel` (its variables created under `strategy`).
        optimizer: a built Keras optimizer (created under `strategy`).
        step: int64 `tf.Variable`, the global step; incremented per update.
        element_spec: the (distributed) training dataset's `element_spec`
            (token-bucketed batches have unknown batch and length dimensions, so
            every bucket shares one trace).
        strategy: a `tf.distribute.Strategy`, or None (the default one).
        jit_compile: bool. Compile the step with XLA (hparam `xla_compile`;
            see `check_xla_support`). Each new batch shape compiles anew.

    Returns:
        A `tf.function` returning `loss`, `accuracy`, `tokens` (float32,
        over the global batch).
    """
    strategy = strategy or tf.distribute.get_strategy()

    def replica_train_step(features):
        context = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            logits, aux = _forward(model, features)
            weights = _weights(model, features)
            tokens = tf.reduce_sum(weights)
            loss_sum = tf.cast(model.loss(features, logits), tf.float32) * tokens
            global_tokens = context.all_reduce(tf.distribute.ReduceOp.SUM, tokens)
            loss = loss_sum / tf.maximum(global_tokens, 1.0)
            if aux:
                loss += tf.add_n(aux) / context.num_replicas_in_sync
        variables = model.trainable_variables
        grads = tape.gradient(loss, variables)
        # In a mixture a step trains one problem: the other problems'
        # modality nets get no gradient and keep their weights and slots.
        used = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        optimizer.apply([g for g, _ in used], [v for _, v in used])
        stats = token_statistics(features, logits, weights)
        return {"loss": loss, "correct": stats["correct"], "target_tokens": stats["tokens"],
                "tokens": input_tokens(features)}

    def train_step(features):
        out = _reduce(strategy, strategy.run(replica_train_step, args=(features,)))
        step.assign_add(1)
        return {"loss": out["loss"],
                "accuracy": out["correct"] / tf.maximum(out["target_tokens"], 1.0),
                "tokens": out["tokens"]}

    if jit_compile:
        check_xla_support(model, strategy)
    return tf.function(train_step, input_signature=[_signature(element_spec)],
                       jit_compile=bool(jit_compile))


def make_eval_step(model, element_spec):
    """A compiled `eval_step(features) -> dict` of summed statistics.

    The dict holds `token_statistics` plus `loss_sum` (the model loss times
    the batch's non-pad target tokens).
    """

    # No Python control flow on tensors here; converting it anyway made
    # AutoGraph warn "closure mismatch" when a mixture builds one per problem.
    @tf.autograph.experimental.do_not_convert
    def replica_eval_step(features):
        logits = model(features, training=False)
        stats = token_statistics(features, logits, _weights(model, features))
        stats["loss_sum"] = model_loss(model, features, logits) * stats["tokens"]
        return stats

    return tf.function(replica_eval_step,
                       input_signature=[relaxed_signature(element_spec)])
