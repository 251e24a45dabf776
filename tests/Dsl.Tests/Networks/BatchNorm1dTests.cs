using Dsl.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Networks;

/// <summary>
/// <c>BatchNorm1d</c> as generated: a training step and evaluation against PyTorch's <c>nn.BatchNorm1d</c> on [N,C] and
/// [N,C,L] (batchnorm1d.json, forward, gradients and the running statistics), and inside a network against finite
/// differences.
/// </summary>
public sealed class BatchNorm1dTests
{
    private const string File = "batchnorm1d.json";

    private readonly ITestOutputHelper _output;

    public BatchNorm1dTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_BatchNorm1d_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        int[] shape = c.Ints("shape");
        Module net = shape.Length == 2 ? new BatchNorm1dFeatures(Device.Cpu) : new BatchNorm1dSequence(Device.Cpu);
        Load(net, "bn1.weight", c.Input("weight"));
        Load(net, "bn1.bias", c.Input("bias"));
        Load(net, "bn1.running_mean", c.Input("running_mean"));
        Load(net, "bn1.running_var", c.Input("running_var"));
        if (!c.Bool("training"))
        {
            net.Eval();
        }
        net.ComputeInputGradient = true;
        net.ZeroGrad();
        var y = net.Forward(c.Input("x").ToTensor(Device.Cpu));
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
        net.Backward(c.Input("dy").ToTensor(Device.Cpu));
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, net.InputGradient!.ToArray(), $"{c} dx");
        Tolerance.Reduction.AssertClose(c.Expected("dweight").Data, Param(net, "bn1.weight").Grad.ToArray(), $"{c} dweight");
        Tolerance.Reduction.AssertClose(c.Expected("dbias").Data, Param(net, "bn1.bias").Grad.ToArray(), $"{c} dbias");
        Tolerance.Reduction.AssertClose(c.Expected("running_mean").Data, Buffer(net, "bn1.running_mean").ToArray(), $"{c} running_mean");
        Tolerance.Reduction.AssertClose(c.Expected("running_var").Data, Buffer(net, "bn1.running_var").ToArray(), $"{c} running_var");
    }

    [Fact]
    public void BatchNorm1d_over_features_and_sequences_in_training_matches_finite_differences()
    {
        var net = new BatchNorm1dNet(Device.Cpu, seed: 3);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 3, 4 }, batch: 4, seed: 5));
    }

    [Fact]
    public void Parameters_and_buffers_have_pytorchs_names_and_shapes()
    {
        var net = new BatchNorm1dNet(Device.Cpu);
        Assert.Equal(new[] { "bn1.weight [3]", "bn1.bias [3]", "fc1.weight [5,12]", "fc1.bias [5]", "bn2.weight [5]", "bn2.bias [5]", "fc2.weight [2,5]", "fc2.bias [2]" },
            net.Parameters.Select(p => p.ToString()).ToArray());
        Assert.Equal(new[] { "bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var" },
            net.Buffers.Select(b => b.Name).Where(n => n.Contains("running")).ToArray());
    }

    private static Parameter Param(Module net, string name) => net.Parameters.Single(p => p.Name == name);

    private static Tensor Buffer(Module net, string name) => net.Buffers.Single(b => b.Name == name).Value;

    private static void Load(Module net, string name, FixtureTensor value)
    {
        var target = net.Parameters.FirstOrDefault(p => p.Name == name)?.Value ?? Buffer(net, name);
        Device.Cpu.Copy(value.ToTensor(Device.Cpu), target);
    }
}
