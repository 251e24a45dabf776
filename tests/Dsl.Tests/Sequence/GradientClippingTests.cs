using System.Globalization;
using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// <see cref="GradientClipping"/> against PyTorch's <c>clip_grad_norm_</c> (norm types 1, 2, 3 and infinity, clipped and
/// not) and <c>clip_grad_value_</c> (clip_grad.json), on the device that holds the gradients.
/// </summary>
public class GradientClippingTests
{
    private const string File = "clip_grad.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Clipping_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var parameters = new List<Parameter>();
        for (int i = 0; i < c.Int("count"); i++)
        {
            var grad = c.Input($"grad{i}");
            var p = new Parameter($"p{i}", Tensor.Zeros(Target, grad.Shape));
            Target.Upload(grad.Data, p.Grad);
            parameters.Add(p);
        }
        if (c.String("op") == "norm")
        {
            string type = c.String("norm_type");
            float normType = type == "inf" ? float.PositiveInfinity : float.Parse(type, CultureInfo.InvariantCulture);
            float total = GradientClipping.ClipNorm(parameters, c.Float("max_norm"), normType);
            Tolerance.Reduction.AssertClose(c.Expected("total_norm").Data[0], total, $"{c} total_norm");
        }
        else
        {
            GradientClipping.ClipValue(parameters, c.Float("clip_value"));
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            Tolerance.Reduction.AssertClose(c.Expected($"grad{i}").Data, parameters[i].Grad.ToArray(), $"{c} grad{i}");
        }
    }

    [Fact]
    public void ClipNorm_refuses_a_non_positive_norm_type()
    {
        var p = new Parameter("w", Tensor.Zeros(Target, 3));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipNorm(new[] { p }, 1f, 0f));
        Assert.Contains("norm type must be positive", e.Message);
    }
}

/// <summary>The clipping fixtures on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuGradientClippingTests(IlgpuCpuAcceleratorFixture fixture) : GradientClippingTests
{
    protected override Device Target => fixture.Device;
}
