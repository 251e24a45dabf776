using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    /// <summary>Elements per thread in the first pass of the norm reduction.</summary>
    private const int NormChunk = 256;

    protected override void AccumulateNormPowerCore(Tensor x, Tensor accumulator, float normType)
    {
        const string op = nameof(AccumulateNormPower);
        int count = Checked(x.Length, op);
        int chunks = (count + NormChunk - 1) / NormChunk;
        var partials = SequenceScratch(chunks);
        Kernel(nameof(NormPowerChunkKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(NormPowerChunkKernel))(
            chunks, F(x, op), partials, count, normType);
        Kernel(nameof(NormPowerReduceKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(NormPowerReduceKernel))(
            1, partials, F(accumulator, op), chunks, normType);
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

    internal static void NormPowerChunkKernel(Index1D chunk, ArrayView<float> x, ArrayView<float> partials, int count, float p)
    {
        int start = chunk * NormChunk;
        int end = Math.Min(count, start + NormChunk);
        bool inf = float.IsPositiveInfinity(p);
        float acc = 0f;
        for (int i = start; i < end; i++)
        {
            float t = NormTerm(x[i], p);
            acc = inf ? MathF.Max(acc, t) : acc + t;
        }
        partials[chunk] = acc;
    }

    internal static void NormPowerReduceKernel(Index1D i, ArrayView<float> partials, ArrayView<float> accumulator, int chunks, float p)
    {
        bool inf = float.IsPositiveInfinity(p);
        float acc = accumulator[0];
        for (int j = 0; j < chunks; j++)
        {
            acc = inf ? MathF.Max(acc, partials[j]) : acc + partials[j];
        }
        accumulator[0] = acc;
    }

    internal static void ScaleKernel(Index1D i, ArrayView<float> y, float alpha) => y[i] *= alpha;

    internal static void ClampKernel(Index1D i, ArrayView<float> y, float min, float max)
    {
        float v = y[i];
        y[i] = v < min ? min : v > max ? max : v;
    }
}
