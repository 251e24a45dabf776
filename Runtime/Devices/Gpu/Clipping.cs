using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void AccumulateNormPowerCore(Tensor x, Tensor accumulator, float normType)
    {
        const string op = nameof(AccumulateNormPower);
        int count = Checked(x.Length, op);
        int group = ReduceGroup;
        int groups = Math.Clamp((count + group - 1) / group, 1, MaxReduceGroups);
        var partials = SequenceScratch(groups);
        Kernel(nameof(NormPowerPartialsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float>(NormPowerPartialsKernel))(
            new KernelConfig(groups, group), F(x, op), partials, count, normType);
        Kernel(nameof(NormPowerFinishKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float>(NormPowerFinishKernel))(
            new KernelConfig(1, group), partials, F(accumulator, op), groups, normType);
    }

    protected override void ScaleCore(Tensor y, float alpha)
    {
        Kernel(nameof(ScaleKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ScaleKernel))(
            Checked(y.Length, nameof(Scale)), F(y, nameof(Scale)), alpha);
    }

    protected override void ClampCore(Tensor y, float min, float max)
    {
        Kernel(nameof(ClampKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float, float>(ClampKernel))(
            Checked(y.Length, nameof(Clamp)), F(y, nameof(Clamp)), min, max);
    }

    /// <summary>|v|^p, with the common p = 1 and 2 exact; for p = infinity the magnitude itself (the reduction takes the max).</summary>
    private static float NormTerm(float v, float p)
    {
        float a = MathF.Abs(v);
        return p == 2f ? a * a : p == 1f || float.IsPositiveInfinity(p) ? a : MathF.Pow(a, p);
    }

    /// <summary>Group g: the sum (the maximum for p = infinity) of |x|^p over a grid-strided share of x, combined in shared memory.</summary>
    internal static void NormPowerPartialsKernel(ArrayView<float> x, ArrayView<float> partials, int count, float p)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        bool inf = float.IsPositiveInfinity(p);
        float acc = 0f;
        for (int i = Grid.IdxX * Group.DimX + Group.IdxX; i < count; i += Grid.DimX * Group.DimX)
        {
            float t = NormTerm(x[i], p);
            acc = inf ? MathF.Max(acc, t) : acc + t;
        }
        acc = inf ? GroupMax(shared, acc) : GroupSum(shared, acc);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = acc;
        }
    }

    /// <summary>One group: accumulator[0] combined with the partials of <see cref="NormPowerPartialsKernel"/>.</summary>
    internal static void NormPowerFinishKernel(ArrayView<float> partials, ArrayView<float> accumulator, int parts, float p)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        bool inf = float.IsPositiveInfinity(p);
        float acc = 0f;
        for (int j = Group.IdxX; j < parts; j += Group.DimX)
        {
            acc = inf ? MathF.Max(acc, partials[j]) : acc + partials[j];
        }
        acc = inf ? GroupMax(shared, acc) : GroupSum(shared, acc);
        if (Group.IdxX == 0)
        {
            accumulator[0] = inf ? MathF.Max(accumulator[0], acc) : accumulator[0] + acc;
        }
    }

    internal static void ScaleKernel(Index1D i, ArrayView<float> y, float alpha) => y[i] *= alpha;

    internal static void ClampKernel(Index1D i, ArrayView<float> y, float min, float max)
    {
        float v = y[i];
        y[i] = v < min ? min : v > max ? max : v;
    }
}
