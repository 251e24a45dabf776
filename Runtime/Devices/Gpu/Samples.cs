using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>The network tensor operations' own kernels (<c>Device.Samples.cs</c>): one thread per output element, one group per output for sums.</summary>
public sealed partial class GpuDevice
{
    protected override void SumToCore(Tensor x, in StridedLayout layout, int reduce, Tensor y, float alpha, bool accumulate)
    {
        const string name = nameof(SumToSamples);
        Kernel(nameof(SumToKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, StridedLayout, int, float, int>(SumToKernel))(
            RowLaunch(y.Length, reduce, name), ((GpuStorage)x.Storage).Floats!.View, F(y, name), layout, reduce, alpha, accumulate ? 1 : 0);
    }

    protected override void MaskedFillCore(Tensor x, Tensor mask, in BroadcastLayout layout, float value, Tensor y, bool accumulate)
    {
        const string name = nameof(MaskedFill);
        Kernel(nameof(MaskedFillKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastLayout, float, int>(MaskedFillKernel))(
            Checked(y.Length, name), ((GpuStorage)x.Storage).Floats!.View, ((GpuStorage)mask.Storage).Floats!.View, F(y, name), layout, value, accumulate ? 1 : 0);
    }

    /// <summary>
    /// y[i] (+)= alpha * the sum of x over the reduced positions of output i (the layout lists them last): one group per
    /// output, its threads striding over the reduced positions.
    /// </summary>
    internal static void SumToKernel(ArrayView<float> x, ArrayView<float> y, StridedLayout layout, int reduce, float alpha, int accumulate)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int i = Grid.IdxX;
        long first = (long)i * reduce;
        float sum = 0f;
        for (int r = Group.IdxX; r < reduce; r += Group.DimX)
        {
            sum += x[StridedLayout.SourceIndex(layout, first + r)];
        }
        sum = GroupSum(shared, sum);
        if (Group.IdxX == 0)
        {
            y[i] = (accumulate != 0 ? y[i] : 0f) + alpha * sum;
        }
    }

    /// <summary>y[i] (+)= value where the broadcast mask is nonzero, x elsewhere (over the whole storages of x and the mask).</summary>
    internal static void MaskedFillKernel(Index1D i, ArrayView<float> x, ArrayView<float> mask, ArrayView<float> y, BroadcastLayout layout, float value, int accumulate)
    {
        float v = mask[BroadcastLayout.IndexB(layout, (int)i)] != 0f ? value : x[BroadcastLayout.IndexA(layout, (int)i)];
        y[i] = accumulate != 0 ? y[i] + v : v;
    }
}
