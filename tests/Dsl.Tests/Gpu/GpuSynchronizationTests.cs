using Dsl.Devices.Gpu;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// On a GPU every download waits for the queue to drain. These tests count the waits of a training step and of an
/// evaluation pass on ILGPU's CPU accelerator (the same host code as on CUDA) with <see cref="GpuDevice.SynchronizationCount"/>.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class GpuSynchronizationTests
{
    private const int Batch = 5;
    private readonly GpuDevice _gpu;

    public GpuSynchronizationTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = (GpuDevice)fixture.Device;

    [Fact]
    public void Training_steps_wait_for_the_device_only_at_the_periodic_loss_read()
    {
        var rng = new Random(3);
        var net = new AgreementNet(_gpu, seed: 2);
        var opt = new Sgd(net.Parameters, lr: 0.05f, momentum: 0.9f);
        var x = Tensor.From(RandomInputs.Normal(rng, Batch * 36), _gpu, Batch, 1, 6, 6);
        var labels = Tensor.From(RandomInputs.Labels(rng, Batch, 4), _gpu, Batch);
        var meter = new LossMeter(_gpu);
        LossResult? loss = null;

        void Step()
        {
            var y = net.Forward(x);
            loss = Loss.Nll(y, labels, loss);
            meter.Add(loss);
            opt.ZeroGrad();
            net.Backward(loss.Gradient);
            opt.Step();
        }

        // Warm-up: workspaces grow (and may wait for queued work) on the first step.
        Step();
        float first = meter.TakeMean();

        const int steps = 4;
        long before = _gpu.SynchronizationCount;
        for (int i = 0; i < steps; i++)
        {
            Step();
        }
        Assert.Equal(before, _gpu.SynchronizationCount);
        float mean = meter.TakeMean();
        Assert.Equal(before + 1, _gpu.SynchronizationCount);

        // The counted steps did train: the same batch's loss fell.
        Assert.True(float.IsFinite(mean) && mean < first, $"loss {first} -> {mean}");
    }

    // The sequence networks' input checks (the embedding's out-of-range ids, the mask's 1s-then-0s rule in every layer
    // that takes it) are recorded on the device, as bad labels are, and reported by the next read: a step waits for nothing.

    [Fact]
    public void A_bilstm_with_attention_pooling_waits_only_for_the_periodic_loss_read()
    {
        var net = new TinyBiLstmAttention(_gpu, seed: 2);
        var (tokens, mask, labels) = PaddedBatch(TinyBiLstmAttention.Vocabulary, TinyBiLstmAttention.Topics);
        AssertStepWaits(net, new Adam(net.Parameters, 1e-2f), () => net.Forward(tokens, mask), labels, net.Backward);
    }

    [Fact]
    public void A_transformer_encoder_classifier_waits_only_for_the_periodic_loss_read()
    {
        var net = new TinyTransformerClassifier(_gpu, seed: 2);
        var (tokens, mask, labels) = PaddedBatch(TinyTransformerClassifier.Vocabulary, TinyTransformerClassifier.Topics);
        AssertStepWaits(net, new Adam(net.Parameters, 1e-2f), () => net.Forward(tokens, mask), labels, net.Backward);
    }

    /// <summary>Three token rows of lengths 6, 4 and 2 padded to 6 (id 0), their 0/1 mask, and labels.</summary>
    private (Tensor Tokens, Tensor Mask, Tensor Labels) PaddedBatch(int vocabulary, int classes)
    {
        const int t = 6;
        int[] lengths = [6, 4, 2];
        var rng = new Random(9);
        var ids = new long[lengths.Length * t];
        var mask = new float[lengths.Length * t];
        for (int n = 0; n < lengths.Length; n++)
        {
            for (int i = 0; i < lengths[n]; i++)
            {
                ids[n * t + i] = rng.Next(1, vocabulary);
                mask[n * t + i] = 1f;
            }
        }
        return (Tensor.From(ids, _gpu, lengths.Length, t), Tensor.From(mask, _gpu, lengths.Length, t),
            Tensor.From(RandomInputs.Labels(rng, lengths.Length, classes), _gpu, lengths.Length));
    }

    /// <summary>
    /// Steps (forward, cross-entropy, zero-grad, backward, update) after a warm-up wait for nothing until the loss is read.
    /// </summary>
    private void AssertStepWaits(Module net, Optimizer opt, Func<Tensor> forward, Tensor labels, Action<Tensor> backward)
    {
        var meter = new LossMeter(_gpu);
        LossResult? loss = null;
        void Step()
        {
            loss = Loss.CrossEntropy(forward(), labels, loss);
            meter.Add(loss);
            opt.ZeroGrad();
            backward(loss.Gradient);
            opt.Step();
        }

        Step();
        float first = meter.TakeMean();
        const int steps = 3;
        long before = _gpu.SynchronizationCount;
        for (int i = 0; i < steps; i++)
        {
            Step();
        }
        long waits = _gpu.SynchronizationCount - before;
        Assert.True(waits == 0, $"{net.GetType().Name}: {waits} waits in {steps} steps, expected none");
        float mean = meter.TakeMean();
        Assert.Equal(before + 1, _gpu.SynchronizationCount);
        Assert.True(float.IsFinite(mean) && mean < first, $"loss {first} -> {mean}");
    }

    [Fact]
    public void Evaluation_counts_correct_predictions_on_the_device_and_reads_once()
    {
        var rng = new Random(4);
        var net = new AgreementNet(_gpu, seed: 5);
        net.Eval();
        const int batches = 3;
        var inputs = Enumerable.Range(0, batches).Select(_ => RandomInputs.Normal(rng, Batch * 36)).ToArray();
        var labelSets = Enumerable.Range(0, batches).Select(_ => RandomInputs.Labels(rng, Batch, 4)).ToArray();
        var x = _gpu.Allocate(DType.Float32, Batch, 1, 6, 6);
        var labels = _gpu.Allocate(DType.Int64, Batch);
        var counter = Tensor.From(new long[1], _gpu, 1);

        // The reference: per-batch counts on the CPU backend, from the same outputs.
        long expected = 0;
        for (int b = 0; b < batches; b++)
        {
            _gpu.Upload(inputs[b], x);
            _gpu.Upload(labelSets[b], labels);
            var y = net.Forward(x);
            expected += Device.Cpu.CountCorrect(Tensor.From(y.ToArray(), y.Dims.ToArray()), Tensor.From(labelSets[b], Batch));
        }

        long before = _gpu.SynchronizationCount;
        for (int b = 0; b < batches; b++)
        {
            _gpu.Upload(inputs[b], x);
            _gpu.Upload(labelSets[b], labels);
            _gpu.AccumulateCorrect(net.Forward(x), labels, counter);
        }
        Assert.Equal(before, _gpu.SynchronizationCount);
        long correct = counter.ToInt64Array()[0];
        Assert.Equal(before + 1, _gpu.SynchronizationCount);
        Assert.Equal(expected, correct);
    }
}
