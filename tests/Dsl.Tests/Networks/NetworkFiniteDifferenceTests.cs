using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Networks;

/// <summary>
/// Whole generated networks (Forward and Backward as emitted) against central finite differences of their own forward
/// pass: every layer kind and combinator the generator supports appears in one of the networks below. Parameters start
/// from the networks' default initialisation (small magnitudes), inputs are Normal(0, 1).
/// </summary>
public sealed class NetworkFiniteDifferenceTests
{
    private readonly ITestOutputHelper _output;

    public NetworkFiniteDifferenceTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Smooth_activations_softmax_and_eval_dropout_match_finite_differences()
    {
        var net = new SmoothActivationsNet(Device.Cpu, seed: 3);
        net.Eval();
        Run(net, SmoothActivationsNet.InputShape, batch: 3, kinks: false);
    }

    [Fact]
    public void Kinked_activations_and_log_softmax_match_finite_differences()
        => Run(new KinkedActivationsNet(Device.Cpu, seed: 2), KinkedActivationsNet.InputShape, batch: 3, kinks: true);

    [Fact]
    public void Tiny_mlp_with_log_softmax_matches_finite_differences()
        => Run(new TinyMlp(Device.Cpu, seed: 4), TinyMlp.InputShape, batch: 3, kinks: true);

    [Fact]
    public void Convolutions_with_same_even_kernel_dilation_groups_and_stride_match_finite_differences()
        => Run(new ConvGeometryNet(Device.Cpu, seed: 5), ConvGeometryNet.InputShape, batch: 2, kinks: true);

    [Fact]
    public void Max_average_adaptive_and_global_pooling_match_finite_differences()
    {
        // Every conv1 weight moves all 98 values of its channel that max pooling compares, so a step of 1e-2 crosses a
        // near-tie for most of them: a smaller step keeps the check away from those kinks.
        var check = new NetworkGradientCheck { AllowKinks = true, Step = 1e-3 };
        _output.WriteLine(check.Run(new PoolingNet(Device.Cpu, seed: 6), PoolingNet.InputShape, batch: 2, seed: 11));
    }

    [Fact]
    public void Residual_concat_repeat_and_training_batch_norm_match_finite_differences()
        => Run(new CombinatorNet(Device.Cpu, seed: 7), CombinatorNet.InputShape, batch: 3, kinks: false);

    [Fact]
    public void Layer_norm_over_one_two_and_three_dimensions_and_softplus_match_finite_differences()
        => Run(new NormNet(Device.Cpu, seed: 9), NormNet.InputShape, batch: 3, kinks: false);

    [Fact]
    public void Shared_layers_and_values_consumed_twice_match_finite_differences()
        => Run(new SharingNet(Device.Cpu, seed: 8), SharingNet.InputShape, batch: 2, kinks: false);

    [Fact]
    public void A_layer_applied_twice_owns_one_set_of_parameters()
    {
        var names = new SharingNet(Device.Cpu).Parameters.Select(p => p.Name).ToArray();
        Assert.Equal(
            new[] { "conv1.weight", "conv1.bias", "shared_conv.weight", "shared_conv.bias", "shared_fc.weight", "shared_fc.bias", "fc1.weight", "fc1.bias" },
            names);
    }

    [Fact]
    public void Chunk_with_selected_reused_and_unused_parts_matches_finite_differences()
        => Run(new ChunkNet(Device.Cpu, seed: 9), ChunkNet.InputShape, batch: 3, kinks: false);

    [Fact]
    public void Chunk_of_the_input_matches_finite_differences()
        => Run(new InputChunkNet(Device.Cpu, seed: 10), InputChunkNet.InputShape, batch: 2, kinks: false);

    [Fact]
    public void Two_named_inputs_match_finite_differences()
    {
        var net = new TwoInputNet(Device.Cpu, seed: 12);
        var shapes = TwoInputNet.InputShapes;
        Assert.Equal(new[] { new[] { 1, 4, 4 }, new[] { 3 } }, shapes);
        _output.WriteLine(new NetworkGradientCheck().Run(net, shapes, inputs => net.Forward(image: inputs[0], extra: inputs[1]), batch: 3, seed: 11));
    }

    private void Run(Module net, int[] sample, int batch, bool kinks)
    {
        var check = new NetworkGradientCheck { AllowKinks = kinks };
        _output.WriteLine(check.Run(net, sample, batch, seed: 11));
    }
}
