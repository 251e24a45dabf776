using Dsl.Devices.Cpu;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// Every CPU convolution algorithm, forced, against the ILGPU kernels on the CPU accelerator: the forward with bias and
/// ReLU, the forward with a residual, and the backward (dx added to what was there or written, dW and db added), on small shapes that
/// reach each algorithm's cases (3x3 same, stride 2, 5x5 with channel counts off the 16-float blocks, 1x1, dilation,
/// groups, 1-high). Each algorithm's own tests check it against float64 and PyTorch; these check that the two backends
/// agree on every path the CPU can take, whatever its plan chooses today.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class ConvAlgorithmAgreementTests(IlgpuCpuAcceleratorFixture fixture)
{
    // Sums of up to 200 products of [-1, 1) values; Winograd's transforms add error of order 1e-5 relative.
    private const double Atol = 2e-4, Rtol = 2e-4;

    private static readonly Dictionary<string, Conv2dGeometry> Shapes = new()
    {
        ["3x3 same 16->16"] = new(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1),
        ["3x3 same 12->20 10x7"] = new(2, 12, 10, 7, 20, 3, 3, 1, 1, 1, 1, 1, 1),
        ["3x3 stride 2 16->32 9x9"] = new(2, 16, 9, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1),
        ["5x5 pad 2 7->20 7x9"] = new(2, 7, 7, 9, 20, 5, 5, 1, 1, 2, 2, 2, 2),
        ["5x5 valid 16->18 10x10"] = new(2, 16, 10, 10, 18, 5, 5),
        ["1x1 24->20"] = new(2, 24, 5, 6, 20, 1, 1),
        ["1x1 stride 2 16->32"] = new(2, 16, 8, 8, 32, 1, 1, 2, 2),
        ["3x3 dilation 2 5->18"] = new(2, 5, 9, 8, 18, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
        ["3x2 grouped strided dilated"] = new(2, 6, 8, 8, 9, 3, 2, 1, 2, 0, 1, 2, 0, 2, 1, Groups: 3),
        ["1-high kernel 3"] = new(3, 4, 1, 23, 5, 1, 3),
    };

    public static TheoryData<string, ConvAlgorithm> ForwardCases() => Cases<ConvAlgorithm>((a, g) => CpuDevice.ConvAlgorithmSupports(a, g));

    public static TheoryData<string, WeightGradientAlgorithm> WeightGradientCases() =>
        Cases<WeightGradientAlgorithm>((a, g) => CpuDevice.WeightGradientSupports(a, g));

    // Every (shape, algorithm) pair this CPU can run.
    private static TheoryData<string, TAlgorithm> Cases<TAlgorithm>(Func<TAlgorithm, Conv2dGeometry, bool> supports)
        where TAlgorithm : struct, Enum
    {
        var data = new TheoryData<string, TAlgorithm>();
        foreach (var (name, g) in Shapes)
        {
            foreach (var algorithm in Enum.GetValues<TAlgorithm>())
            {
                if (supports(algorithm, g))
                {
                    data.Add(name, algorithm);
                }
            }
        }
        return data;
    }

    [Fact]
    public void Every_algorithm_this_cpu_can_run_has_a_case()
    {
        bool wide = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        AssertReached(ForwardCases(), needsWide: a => a is ConvAlgorithm.Blocked or ConvAlgorithm.BlockedWinograd, wide);
        AssertReached(WeightGradientCases(), needsWide: a => a == WeightGradientAlgorithm.ImplicitGemm, wide);
    }

    // Each algorithm has a case, unless it needs 512-bit vectors and this CPU has none.
    private static void AssertReached<TAlgorithm>(TheoryData<string, TAlgorithm> cases, Func<TAlgorithm, bool> needsWide, bool wide)
        where TAlgorithm : struct, Enum
    {
        var reached = cases.Select(row => (TAlgorithm)row[1]).ToHashSet();
        foreach (var algorithm in Enum.GetValues<TAlgorithm>())
        {
            Assert.True(reached.Contains(algorithm) || (needsWide(algorithm) && !wide), $"no shape here reaches {typeof(TAlgorithm).Name}.{algorithm}");
        }
    }

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void Forward_residual_and_input_gradient_agree_with_ilgpu(string shape, ConvAlgorithm algorithm)
    {
        var g = Shapes[shape];
        var random = new Random(shape.Length * 31 + (int)algorithm);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        var residual = Uniform(random, (int)g.OutputLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, g.OutChannels);
        var cpu = new CpuDevice(2) { ConvAlgorithmOverride = algorithm };
        string what = $"{algorithm} on {shape}";

        var relu = ConvReluEpilogueTests.Run(cpu, g, x, w, b, relu: true);
        Assert.Contains(relu, v => v == 0f);
        AssertClose(Widen(ConvReluEpilogueTests.Run(fixture.Device, g, x, w, b, relu: true)), relu, Atol, Rtol, $"relu(conv + bias), {what}");

        var summed = ConvReluEpilogueTests.Run(cpu, g, x, w, b, relu: false, residual);
        AssertClose(Widen(ConvReluEpilogueTests.Run(fixture.Device, g, x, w, b, relu: false, residual)), summed, Atol, Rtol, $"conv + bias + residual, {what}");

        var (dx, dw, db) = Backward(cpu, g, x, w, dy, dx0, dw0, db0);
        var (gdx, gdw, gdb) = Backward(fixture.Device, g, x, w, dy, dx0, dw0, db0);
        AssertClose(Widen(gdx), dx, Atol, Rtol, $"dx added to its old value, {what}");
        AssertClose(Widen(gdw), dw, Atol, Rtol, $"dW added to its old value, {what}");
        AssertClose(Widen(gdb), db, Atol, Rtol, $"db added to its old value, {what}");

        // dx written over what was there (NaN): ILGPU's accumulated dx less the old value.
        var written = Backward(cpu, g, x, w, dy, null, dw0, db0).Dx;
        var expected = new double[gdx.Length];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = (double)gdx[i] - dx0[i];
        }
        AssertClose(expected, written, Atol, Rtol, $"dx written, {what}");
    }

    [Theory]
    [MemberData(nameof(WeightGradientCases))]
    public void Weight_gradient_agrees_with_ilgpu(string shape, WeightGradientAlgorithm algorithm)
    {
        var g = Shapes[shape];
        var random = new Random(shape.Length * 37 + (int)algorithm);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, g.OutChannels);
        var cpu = new CpuDevice(2) { WeightGradientOverride = algorithm };
        var (_, dw, db) = Backward(cpu, g, x, w, dy, dx0, dw0, db0);
        var (_, gdw, gdb) = Backward(fixture.Device, g, x, w, dy, dx0, dw0, db0);
        AssertClose(Widen(gdw), dw, Atol, Rtol, $"dW by {algorithm} on {shape}");
        AssertClose(Widen(gdb), db, Atol, Rtol, $"db by {algorithm} on {shape}");
    }

    // dW and db are added to dw0 and db0 (parameter gradients accumulate); dx is added to dx0 (a layer whose input feeds
    // two branches), or with dx0 null written over NaN.
    private static (float[] Dx, float[] Dw, float[] Db) Backward(Device d, in Conv2dGeometry g, float[] x, float[] w, float[] dy,
        float[]? dx0, float[] dw0, float[] db0)
    {
        var dx = dx0 is null
            ? Tensor.Full(d, float.NaN, g.Batch, g.InChannels, g.Height, g.Width)
            : Tensor.From((float[])dx0.Clone(), d, g.Batch, g.InChannels, g.Height, g.Width);
        var dw = Tensor.From((float[])dw0.Clone(), d, g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        var db = Tensor.From((float[])db0.Clone(), d, g.OutChannels);
        d.Conv2dBackward(
            Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width),
            Tensor.From(w, d, g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW),
            Tensor.From(dy, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth),
            dx, dw, db, g, accumulateDx: dx0 is not null);
        return (dx.ToArray(), dw.ToArray(), db.ToArray());
    }
}
