using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Gemm;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// The CPU's <see cref="Device.MaxOverTime"/> picks the same winner as a running maximum over the steps in order (a later
/// step replaces the best only when strictly greater, and the first NaN wins): ties, +0 against -0, NaN at the front, the
/// middle and the end, rows long enough for the vectorised maximum's full-width and tail paths, with lengths that cut rows
/// short or empty them; with the 512-bit and the 256-bit vectors (forced as the GEMM kernels are), on one and two threads.
/// </summary>
public class MaxOverTimeWinnerTests
{
    public static TheoryData<int, string, int> Cases()
    {
        var cases = new TheoryData<int, string, int>();
        foreach (int time in new[] { 7, 12, 17, 37, 70 })
        {
            foreach (string kernel in new[] { nameof(GemmKernel.Vector512), nameof(GemmKernel.Vector256) })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    cases.Add(time, kernel, threads);
                }
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MaxOverTime_picks_the_first_maximum_the_first_NaN_and_keeps_the_sign_of_a_zero(int time, string kernel, int threads)
    {
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            Check(time, new CpuDevice(threads));
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }

    private static void Check(int time, Device device)
    {
        const int N = 64, C = 9; // enough rows for two threads to split them (from 17 steps)
        var rng = new Random(time);
        var x = new float[N * C * time];
        for (int row = 0; row < N * C; row++)
        {
            var r = x.AsSpan(row * time, time);
            switch (row % C)
            {
                case 0: // few distinct values: ties everywhere
                    for (int t = 0; t < time; t++) r[t] = rng.Next(3);
                    break;
                case 1: // ReLU-like: zeros of both signs, the maximum a zero
                    for (int t = 0; t < time; t++) r[t] = rng.Next(2) == 0 ? -0f : 0f;
                    break;
                case 2: // -0 first, then +0: the first stays
                    r.Fill(0f);
                    r[0] = -0f;
                    break;
                case 3: // a NaN at the front
                    Fill(r, rng);
                    r[0] = float.NaN;
                    break;
                case 4: // two NaNs in the middle
                    Fill(r, rng);
                    r[time / 2] = float.NaN;
                    r[time - 1] = float.NaN;
                    break;
                case 5: // the maximum at the last step, twice
                    Fill(r, rng);
                    r[time - 1] = 10f;
                    r[time / 3] = 10f;
                    break;
                case 6: // all equal negatives
                    r.Fill(-2.5f);
                    break;
                case 7: // infinities
                    Fill(r, rng);
                    r[time / 2] = float.PositiveInfinity;
                    r[time - 1] = float.PositiveInfinity;
                    break;
                default:
                    Fill(r, rng);
                    break;
            }
        }
        long[] lengths = Enumerable.Range(0, N).Select(n => (long)new[] { time, time - 2, 1, 0 }[n % 4]).ToArray();
        var y = Tensor.Full(device, 123f, N, C);
        var argmax = device.Allocate(DType.Int32, N, C);
        device.MaxOverTime(Tensor.From(x, device, N, C, time), Tensor.From(lengths, device, N), y, argmax, N, C, time);
        float[] ys = y.ToArray();
        var am = new int[N * C];
        device.Download(argmax, am);
        for (int row = 0; row < N * C; row++)
        {
            int len = (int)lengths[row / C];
            int best = len > 0 ? 0 : -1;
            for (int t = 1; t < len; t++)
            {
                float v = x[row * time + t], b = x[row * time + best];
                if (v > b || float.IsNaN(v))
                {
                    best = t;
                    if (float.IsNaN(v))
                    {
                        break;
                    }
                }
            }
            float expected = best < 0 ? 0f : x[row * time + best];
            Assert.Equal(best, am[row]);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(ys[row]));
        }
    }

    private static void Fill(Span<float> r, Random rng)
    {
        for (int t = 0; t < r.Length; t++)
        {
            r[t] = (float)(rng.NextDouble() * 4 - 2);
        }
    }
}
