using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void FillCore(Tensor y, float value)
    {
        var view = F(y, nameof(Fill));
        if (Empty(y.Length))
        {
            return;
        }
        Kernel(nameof(FillKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(FillKernel))(
            Checked(y.Length, nameof(Fill)), view, value);
    }

    protected override void CopyCore(Tensor x, Tensor y)
    {
        if (Empty(x.Length))
        {
            return;
        }
        int n = Checked(x.Length, nameof(Copy));
        switch (x.DType)
        {
            case DType.Float32:
                Kernel("CopyKernel<float>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(CopyKernel))(
                    n, F(x, nameof(Copy)), F(y, nameof(Copy)));
                break;
            case DType.Int64:
                Kernel("CopyKernel<long>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>>(CopyKernel))(
                    n, L(x, nameof(Copy)), L(y, nameof(Copy)));
                break;
            default:
                Kernel("CopyKernel<int>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(CopyKernel))(
                    n, I(x, nameof(Copy)), I(y, nameof(Copy)));
                break;
        }
    }

    protected override void AddCore(Tensor a, Tensor b, Tensor y)
    {
        var (av, bv, yv) = (F(a, nameof(Add)), F(b, nameof(Add)), F(y, nameof(Add)));
        if (Empty(a.Length))
        {
            return;
        }
        Kernel(nameof(AddKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel))(
            Checked(a.Length, nameof(Add)), av, bv, yv);
    }

    protected override void AxpyCore(float alpha, Tensor x, Tensor y)
    {
        var (xv, yv) = (F(x, nameof(Axpy)), F(y, nameof(Axpy)));
        if (Empty(x.Length))
        {
            return;
        }
        Kernel(nameof(AxpyKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>, ArrayView<float>>(AxpyKernel))(
            Checked(x.Length, nameof(Axpy)), alpha, xv, yv);
    }

    protected override void MulCore(Tensor a, Tensor b, Tensor y)
    {
        var (av, bv, yv) = (F(a, nameof(Mul)), F(b, nameof(Mul)), F(y, nameof(Mul)));
        if (Empty(a.Length))
        {
            return;
        }
        Kernel(nameof(MulKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MulKernel))(
            Checked(a.Length, nameof(Mul)), av, bv, yv);
    }

    protected override void AddBiasCore(Tensor y, Tensor bias, int inner)
    {
        var yv = F(y, nameof(AddBias));
        var bv = F(bias, nameof(AddBias));
        Kernel(nameof(AddBiasKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(AddBiasKernel))(
            Checked(y.Length, nameof(AddBias)), yv, bv, (int)bias.Length, inner);
    }

    protected override void BiasGradCore(Tensor dy, Tensor db, int inner, bool accumulate)
    {
        var g = F(dy, nameof(BiasGrad));
        var d = F(db, nameof(BiasGrad));
        long row = db.Length * inner;
        BiasGradViews(g, d, (int)db.Length, inner, Checked(dy.Length / row, nameof(BiasGrad)), accumulate);
    }

    private void BiasGradViews(ArrayView<float> dy, ArrayView<float> db, int channels, int inner, int outer, bool accumulate)
    {
        Kernel(nameof(BiasGradKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(BiasGradKernel))(
            channels, dy, db, channels, inner, outer, accumulate ? 1 : 0);
    }

    protected override void CopyChannelsCore(Tensor src, int srcChannels, int srcOffset, Tensor dst, int dstChannels, int dstOffset,
        int count, int batch, int spatial, bool accumulate)
    {
        var (s, d) = (F(src, nameof(CopyChannels)), F(dst, nameof(CopyChannels)));
        long total = (long)batch * count * spatial;
        if (Empty(total))
        {
            return;
        }
        var args = new ChannelCopyArgs(srcChannels, srcOffset, dstChannels, dstOffset, count, spatial, accumulate ? 1 : 0);
        Kernel(nameof(CopyChannelsKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ChannelCopyArgs>(CopyChannelsKernel))(
            Checked(total, nameof(CopyChannels)), s, d, args);
    }

    // ------------------------------------------------------------------ kernels

    internal static void FillKernel(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    internal static void CopyKernel<T>(Index1D i, ArrayView<T> x, ArrayView<T> y)
        where T : unmanaged => y[i] = x[i];

    internal static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] + b[i];

    internal static void AxpyKernel(Index1D i, float alpha, ArrayView<float> x, ArrayView<float> y) => y[i] += alpha * x[i];

    internal static void MulKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] * b[i];

    internal static void AddBiasKernel(Index1D i, ArrayView<float> y, ArrayView<float> bias, int channels, int inner)
        => y[i] += bias[(i / inner) % channels];

    /// <summary>One thread per channel: a fixed summation order, so results do not depend on scheduling.</summary>
    internal static void BiasGradKernel(Index1D c, ArrayView<float> dy, ArrayView<float> db, int channels, int inner, int outer, int accumulate)
    {
        float sum = 0f;
        float carry = 0f;
        for (int o = 0; o < outer; o++)
        {
            int start = (o * channels + c) * inner;
            for (int j = 0; j < inner; j++)
            {
                // Kahan summation: a channel can gather tens of thousands of terms.
                float v = dy[start + j] - carry;
                float t = sum + v;
                carry = (t - sum) - v;
                sum = t;
            }
        }
        db[c] = accumulate != 0 ? db[c] + sum : sum;
    }

    internal readonly record struct ChannelCopyArgs(int SrcChannels, int SrcOffset, int DstChannels, int DstOffset, int Count, int Spatial, int Accumulate);

    internal static void CopyChannelsKernel(Index1D i, ArrayView<float> src, ArrayView<float> dst, ChannelCopyArgs a)
    {
        int block = a.Count * a.Spatial;
        int n = i / block;
        int r = i - n * block;
        float v = src[(n * a.SrcChannels + a.SrcOffset) * a.Spatial + r];
        int to = (n * a.DstChannels + a.DstOffset) * a.Spatial + r;
        dst[to] = a.Accumulate != 0 ? dst[to] + v : v;
    }
}
