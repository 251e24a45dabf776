using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <see cref="ActivationKind.Softplus"/> (<c>nn.Softplus(beta, threshold)</c>) forward and backward against PyTorch
/// (softplus.json: inputs straddling the threshold and far below zero) and against central differences of a float64
/// forward written here from PyTorch's definition (not from <see cref="ActivationMath"/>).
/// </summary>
public class SoftplusTests
{
    private const string File = "softplus.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softplus_forward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, x.Shape);
        Target.Activation(ActivationKind.Softplus, c.Float("beta"), c.Float("threshold"), x, y);
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softplus_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        float beta = c.Float("beta"), threshold = c.Float("threshold");
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Zeros(Target, x.Shape);
        Target.Activation(ActivationKind.Softplus, beta, threshold, x, y);
        var dx = Tensor.Full(Target, float.NaN, x.Shape);
        Target.ActivationBackward(ActivationKind.Softplus, beta, threshold, x, y, c.Input("dy").ToTensor(Target), dx, accumulate: false);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
    }

    [Fact]
    public void Softplus_without_a_threshold_uses_pytorchs_default_of_20()
    {
        var c = FixtureFile.Load(File).Case("default");
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, x.Shape);
        Target.Activation(ActivationKind.Softplus, 1f, x, y);
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y (default threshold)");
    }

    [Theory]
    [InlineData(1f, 20f)]
    [InlineData(2f, 5f)]
    [InlineData(0.5f, 20f)]
    public void Softplus_backward_matches_finite_differences(float beta, float threshold)
    {
        var rng = new Random(29);
        const int n = 40;
        // Keep beta*x away from the threshold, where softplus has a (tiny) jump that differences would see.
        float[] x = RandomInputs.Normal(rng, n, scale: 3.0).Select(v => MathF.Abs(v * beta - threshold) < 0.01f ? v + 0.1f : v).ToArray();
        float[] dy = RandomInputs.Normal(rng, n);
        var xt = Tensor.From(x, Target, n);
        var y = Tensor.Zeros(Target, n);
        Target.Activation(ActivationKind.Softplus, beta, threshold, xt, y);
        var dx = Tensor.Zeros(Target, n);
        Target.ActivationBackward(ActivationKind.Softplus, beta, threshold, xt, y, Tensor.From(dy, Target, n), dx, accumulate: false);

        double[] xd = RandomInputs.ToDoubles(x);
        Func<double[], double[]> f = v => v.Select(e => e * beta > threshold ? e : Math.Log(1 + Math.Exp(beta * e)) / beta).ToArray();
        Tolerance.Elementwise.AssertClose(f(xd), y.ToArray(), $"softplus({beta},{threshold}) y vs float64");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(f, xd, RandomInputs.ToDoubles(dy)), dx.ToArray(), $"softplus({beta},{threshold}) dx vs finite differences");
    }

    [Fact]
    public void Unknown_activation_kind_is_rejected_before_any_kernel_runs()
    {
        var x = Tensor.Zeros(Target, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Target.Activation((ActivationKind)99, 0f, x, Tensor.Zeros(Target, 3)));
        Assert.Contains("unknown activation kind 99", e.Message);
    }
}

/// <summary>The Softplus suite on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuSoftplusTests(IlgpuCpuAcceleratorFixture fixture) : SoftplusTests
{
    protected override Device Target => fixture.Device;
}
