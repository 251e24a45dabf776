using Dsl.Data;
using Dsl.Tests.Data;
using Dsl.Tests.Networks;
using Specs.Cli;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// Every Spec of the catalogue and test networks covering every mapped op, exported and run in ONNX Runtime on random
/// and real (Fashion-MNIST slice) inputs at two batch sizes: the outputs must be <c>Forward</c>'s in evaluation mode to
/// <see cref="OnnxRuntimeCheck.Tolerance"/>. Batch norm and layer norm tensors are moved away from their initial values
/// first, so a mapping that ignored them would show.
/// </summary>
public class OnnxAgreementTests(ITestOutputHelper output)
{
    /// <summary>
    /// The catalog's image Specs (a fixed input shape); its sequence Specs (<c>seq2seq</c>, shape [-1]) are checked on tokens
    /// and masks by <see cref="OnnxSequenceTests"/>. None may be refused.
    /// </summary>
    public static TheoryData<string> Specs => new(NetworkCatalog.All.Where(e => e.InputShape.All(d => d > 0)).Select(e => e.Name));

    private static readonly Lazy<LabeledImages> RealImages = new(() => FashionMnist.Load(SliceFolder.Path).Test);

    [Theory]
    [MemberData(nameof(Specs))]
    public void Spec_agrees_with_onnx_runtime_on_random_and_fashion_mnist_inputs(string name)
    {
        var info = NetworkCatalog.Get(name);
        var net = info.Create(Device.Cpu, 3);
        OnnxRuntimeCheck.Perturb(net, 11);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (int batch in new[] { 1, 6 })
        {
            Check(name, $"random, batch {batch}", model, net.Forward, OnnxRuntimeCheck.Random(batch, 2f, [batch, .. info.InputShape]));
        }
        if (info.InputShape.Aggregate(1, (a, b) => a * b) == RealImages.Value.SampleLength)
        {
            foreach (int batch in new[] { 2, 32 })
            {
                Check(name, $"Fashion-MNIST, batch {batch}", model, net.Forward, Real(batch, info.InputShape));
            }
        }
        else
        {
            Assert.Fail($"{name} takes {string.Join("x", info.InputShape)} inputs, not Fashion-MNIST images");
        }
    }

    public static TheoryData<string> TestNetworks => new(Networks.Keys);

    /// <summary>Single-input test networks that together use every mapped op, with the scale of their random inputs.</summary>
    private static readonly Dictionary<string, (Func<Module> Create, int[] Shape)> Networks = new()
    {
        ["SmoothActivationsNet"] = (() => new SmoothActivationsNet(Device.Cpu, 1), SmoothActivationsNet.InputShape),
        ["KinkedActivationsNet"] = (() => new KinkedActivationsNet(Device.Cpu, 1), KinkedActivationsNet.InputShape),
        ["PoolingNet"] = (() => new PoolingNet(Device.Cpu, 1), PoolingNet.InputShape),
        ["NormNet"] = (() => new NormNet(Device.Cpu, 1), NormNet.InputShape),
        ["ChunkNet"] = (() => new ChunkNet(Device.Cpu, 1), ChunkNet.InputShape),
        ["InputChunkNet"] = (() => new InputChunkNet(Device.Cpu, 1), InputChunkNet.InputShape),
        // Split and Chunk on middle dimensions (ONNX Split with an axis other than the channels).
        ["SplitMiddleNet"] = (() => new global::Dsl.Tests.TensorDsl.SplitMiddleNet(Device.Cpu, 1), global::Dsl.Tests.TensorDsl.SplitMiddleNet.InputShape),
        ["ConvGeometryNet"] = (() => new ConvGeometryNet(Device.Cpu, 1), ConvGeometryNet.InputShape),
        ["CombinatorNet"] = (() => new CombinatorNet(Device.Cpu, 1), CombinatorNet.InputShape),
        ["BnNet"] = (() => new BnNet(Device.Cpu, 1), BnNet.InputShape),
        ["AgreementNet"] = (() => new AgreementNet(Device.Cpu, 1), AgreementNet.InputShape),
        ["SharingNet"] = (() => new SharingNet(Device.Cpu, 1), SharingNet.InputShape),
        ["OnnxOpsNet"] = (() => new OnnxOpsNet(Device.Cpu, 1), OnnxOpsNet.InputShape),
        ["OnnxPoolNet"] = (() => new OnnxPoolNet(Device.Cpu, 1), OnnxPoolNet.InputShape),
        // A Spec of Specs/Networks the catalog does not list.
        ["SmallNet"] = (() => new global::Specs.Networks.SmallNet(Device.Cpu, 1), global::Specs.Networks.SmallNet.InputShape),
        // The transfer experiment's network, and (height, width) pairs with ceil-mode pooling.
        ["TransferCnn"] = (() => new global::Specs.Networks.TransferCnn(Device.Cpu, 1), global::Specs.Networks.TransferCnn.InputShape),
        ["OnnxCeilNet"] = (() => new Dsl.Tests.Transfer.OnnxCeilNet(Device.Cpu, 1), Dsl.Tests.Transfer.OnnxCeilNet.InputShape),
    };

    [Theory]
    [MemberData(nameof(TestNetworks))]
    public void Test_network_agrees_with_onnx_runtime_at_two_batch_sizes(string name)
    {
        var (create, shape) = Networks[name];
        var net = create();
        OnnxRuntimeCheck.Perturb(net, 7);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (int batch in new[] { 1, 9 })
        {
            Check(name, $"random, batch {batch}", model, net.Forward, OnnxRuntimeCheck.Random(batch + 100, 2f, [batch, .. shape]));
        }
    }

    [Fact]
    public void Two_inputs_are_named_as_forward_takes_them_and_agree()
    {
        var net = new TwoInputNet(Device.Cpu, 2);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (int batch in new[] { 1, 4 })
        {
            var image = OnnxRuntimeCheck.Random(batch, 1.5f, batch, 1, 4, 4);
            var extra = OnnxRuntimeCheck.Random(batch + 50, 1.5f, batch, 3);
            var reference = OnnxRuntimeCheck.Run(model, image, extra);
            Report("TwoInputNet", $"batch {batch}", OnnxRuntimeCheck.MaxRelativeError(net.Forward(image, extra), reference["output"]));
        }
    }

    [Fact]
    public void Several_outputs_are_named_as_forward_all_returns_them_and_agree()
    {
        var net = new TwoOutputNet(Device.Cpu, 2);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (int batch in new[] { 1, 5 })
        {
            var x = OnnxRuntimeCheck.Random(batch, 1.5f, batch, 6);
            var reference = OnnxRuntimeCheck.Run(model, x);
            Assert.Equal(new[] { "logits", "hidden" }.Order(), reference.Keys.Order());
            var (logits, hidden) = net.ForwardAll(x);
            Report("TwoOutputNet logits", $"batch {batch}", OnnxRuntimeCheck.MaxRelativeError(logits, reference["logits"]));
            Report("TwoOutputNet hidden", $"batch {batch}", OnnxRuntimeCheck.MaxRelativeError(hidden, reference["hidden"]));
        }
    }

    [Fact]
    public void A_symbolic_length_is_dynamic_and_agrees_at_two_lengths_and_batch_sizes()
    {
        var net = new SequenceNet(Device.Cpu, 4);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in new[] { (1, 3), (4, 7) })
        {
            var x = OnnxRuntimeCheck.Random(batch * length, 1.5f, batch, length, 5);
            var mask = Tensor.From(Enumerable.Repeat(1f, batch * length).ToArray(), batch, length);
            var tokens = Tensor.From(Enumerable.Range(0, batch * length).Select(i => (long)(i % 5)).ToArray(), batch, length);
            var reference = OnnxRuntimeCheck.Run(model, x, mask, tokens);
            Report("SequenceNet", $"batch {batch}, T = {length}", OnnxRuntimeCheck.MaxRelativeError(net.Forward(x, mask, tokens), reference["output"]));
        }
    }

    [Fact]
    public void The_measure_sees_weights_and_running_statistics_that_differ_from_the_exported_ones()
    {
        // The negative twin of the agreement tests: a model of other weights, or of other batch norm statistics, is far off.
        var net = new global::Specs.Networks.ResNet20(Device.Cpu, 3);
        OnnxRuntimeCheck.Perturb(net, 11);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        var x = OnnxRuntimeCheck.Random(1, 2f, 4, 1, 28, 28);
        Assert.True(OnnxRuntimeCheck.MaxRelativeError(net.Forward(x), OnnxRuntimeCheck.Run(model, x)["output"]) <= OnnxRuntimeCheck.Tolerance);
        float[] variance = net.StateDict()["bn21.running_var"].ToArray();
        net.LoadStateDict(new Dictionary<string, Tensor> { ["bn21.running_var"] = Tensor.From(variance.Select(v => v * 4f).ToArray(), variance.Length) }, strict: false);
        double error = OnnxRuntimeCheck.MaxRelativeError(net.Forward(x), OnnxRuntimeCheck.Run(model, x)["output"]);
        Assert.True(error > 100 * OnnxRuntimeCheck.Tolerance, $"a changed running variance moved the outputs by only {error:0.0e+00}");
    }

    private void Check(string name, string what, byte[] model, Func<Tensor, Tensor> forward, Tensor input)
    {
        var reference = OnnxRuntimeCheck.Run(model, input);
        Report(name, what, OnnxRuntimeCheck.MaxRelativeError(forward(input), reference["output"]));
    }

    private void Report(string name, string what, double error)
    {
        output.WriteLine($"{name} ({what}): max relative error {error:0.00e+00} against ONNX Runtime");
        Assert.True(error <= OnnxRuntimeCheck.Tolerance, $"{name} ({what}): max relative error {error:0.00e+00} exceeds {OnnxRuntimeCheck.Tolerance:0e+00}");
    }

    /// <summary>The first <paramref name="batch"/> test images of the slice, shaped as the network's input.</summary>
    private static Tensor Real(int batch, int[] shape)
    {
        var images = RealImages.Value;
        var samples = new float[batch * images.SampleLength];
        var labels = new long[batch];
        images.Gather(Enumerable.Range(0, batch).ToArray(), samples, labels);
        return Tensor.From(samples, [batch, .. shape]);
    }
}
