using Dsl.Tests.OnnxExport;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Transformer;

/// <summary>
/// The ONNX mappings of the Transformer's layers against ONNX Runtime on the fixture networks (causal masks, cross-attention,
/// key padding, GELU, pre- and post-norm, the decoder's memory), parameters perturbed from their init, in evaluation mode;
/// and the negative twin: the same model fed a full mask moves far from Forward on a padded batch.
/// </summary>
public sealed class TransformerOnnxTests
{
    private readonly ITestOutputHelper _output;

    public TransformerOnnxTests(ITestOutputHelper output) => _output = output;

    private static Tensor Values(Random random, params int[] shape)
        => Tensor.From(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => 2f * (float)random.NextDouble() - 1f).ToArray(), shape);

    private static Tensor KeyMask(int length, params int[] lengths) => TransformerGradientTests.KeyMask(Device.Cpu, length, lengths);

    private void Agree(Module net, Tensor[] inputs, Tensor ours)
    {
        var reference = OnnxRuntimeCheck.Run(OnnxRuntimeCheck.Export(net), inputs);
        double error = OnnxRuntimeCheck.MaxRelativeError(ours, reference["output"]);
        _output.WriteLine($"{net.NetworkName}: max relative error {error:0.00e+00} against ONNX Runtime");
        Assert.True(error <= OnnxRuntimeCheck.Tolerance, $"{net.NetworkName}: max relative error {error:0.00e+00} exceeds {OnnxRuntimeCheck.Tolerance:0e+00}");
    }

    private static T Ready<T>(T net) where T : Module
    {
        OnnxRuntimeCheck.Perturb(net, 13);
        net.Eval();
        return net;
    }

    [Fact]
    public void Attention_layers_agree_with_onnx_runtime()
    {
        var random = new Random(3);
        var x = Values(random, 3, 5, 8);
        var memory = Values(random, 3, 7, 8);
        var mask = KeyMask(5, 5, 2, 4);
        var memoryMask = KeyMask(7, 7, 1, 3);
        var self = Ready(new MhaSelfNet(Device.Cpu, 1));
        Agree(self, [x, mask], self.Forward(x, mask));
        var causal = Ready(new MhaCausalNet(Device.Cpu, 1));
        Agree(causal, [x], causal.Forward(x));
        var cross = Ready(new MhaCrossNet(Device.Cpu, 1));
        Agree(cross, [x, memory, memoryMask], cross.Forward(x, memory, memoryMask));
    }

    [Fact]
    public void Encoder_and_decoder_layers_agree_with_onnx_runtime()
    {
        var random = new Random(4);
        var x = Values(random, 2, 6, 8);
        var memory = Values(random, 2, 4, 8);
        var mask = KeyMask(6, 6, 3);
        var memoryMask = KeyMask(4, 4, 2);
        var post = Ready(new EncoderEvalNet(Device.Cpu, 1));
        Agree(post, [x, mask], post.Forward(x, mask));
        var pre = Ready(new EncoderNormFirstNet(Device.Cpu, 1));
        Agree(pre, [x], pre.Forward(x));
        var decoder = Ready(new DecoderTrainNet(Device.Cpu, 1));
        Agree(decoder, [x, memory, memoryMask], decoder.Forward(x, memory, memoryMask));
        var preDecoder = Ready(new DecoderNormFirstNet(Device.Cpu, 1));
        Agree(preDecoder, [x, memory, mask, memoryMask], preDecoder.Forward(x, memory, mask, memoryMask));
    }

    [Fact]
    public void The_measure_sees_a_mapping_that_ignored_the_key_padding()
    {
        var random = new Random(5);
        var x = Values(random, 2, 6, 8);
        var net = Ready(new EncoderEvalNet(Device.Cpu, 1));
        var ours = net.Forward(x, KeyMask(6, 6, 2));
        var unmasked = OnnxRuntimeCheck.Run(OnnxRuntimeCheck.Export(net), x, KeyMask(6, 6, 6));
        double error = OnnxRuntimeCheck.MaxRelativeError(ours, unmasked["output"]);
        Assert.True(error > 100 * OnnxRuntimeCheck.Tolerance, $"a mask left out moved the outputs by only {error:0.0e+00}");
    }
}
