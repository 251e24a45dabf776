namespace Dsl.Devices.Cpu;

// The network tensor operations' own kernels (Device.Samples.cs): a sum over broadcast dimensions and masked_fill, each
// split over output runs with a struct job, so a training step allocates nothing.
public sealed partial class CpuDevice
{
    protected override void SumToCore(Tensor x, in StridedLayout layout, int reduce, Tensor y, float alpha, bool accumulate)
    {
        var job = new SumToJob(((CpuStorage)x.Storage).Floats!, layout, reduce, ((CpuStorage)y.Storage).Floats!, y.Offset, alpha, accumulate);
        int count = checked((int)y.Length);
        ParallelRange(count, Math.Max(1, 16384 / reduce), ref job);
    }

    protected override void MaskedFillCore(Tensor x, Tensor mask, in BroadcastLayout layout, float value, Tensor y, bool accumulate)
    {
        var job = new MaskedFillJob(((CpuStorage)x.Storage).Floats!, ((CpuStorage)mask.Storage).Floats!, layout, value, ((CpuStorage)y.Storage).Floats!, y.Offset, accumulate);
        ParallelRange(checked((int)y.Length), 16384, ref job);
    }

    private readonly struct SumToJob(float[] x, StridedLayout layout, int reduce, float[] y, long yOffset, float alpha, bool accumulate) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                long first = (long)i * reduce;
                float sum = 0f;
                for (int r = 0; r < reduce; r++)
                {
                    sum += x[StridedLayout.SourceIndex(layout, first + r)];
                }
                long at = yOffset + i;
                y[at] = (accumulate ? y[at] : 0f) + alpha * sum;
            }
        }
    }

    private readonly struct MaskedFillJob(float[] x, float[] mask, BroadcastLayout layout, float value, float[] y, long yOffset, bool accumulate) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                float v = mask[BroadcastLayout.IndexB(layout, i)] != 0f ? value : x[BroadcastLayout.IndexA(layout, i)];
                long at = yOffset + i;
                y[at] = accumulate ? y[at] + v : v;
            }
        }
    }
}
