using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu;

namespace Dsl.Visualization;

/// <summary>
/// The gradient of t-SNE's cost <c>KL(P || Q) = sum_ij p_ij ln(p_ij / q_ij)</c> for a 2-D embedding, with the Student-t
/// kernel <c>w_ij = 1 / (1 + |y_i - y_j|^2)</c> and <c>q_ij = w_ij / Z</c>, <c>Z = sum_{k != l} w_kl</c>:
/// <c>dC/dy_i = 4 (sum_j p_ij w_ij (y_i - y_j) - sum_j w_ij^2 (y_i - y_j) / Z)</c>.
/// The attraction runs over P's sparse entries; the repulsion is exact, over all N^2 pairs, in SIMD registers
/// (<see cref="Vector512"/>, else <see cref="Vector256"/>) and split over threads by rows. Each row is summed
/// independently and the rows are combined in order, so the result is the same for any thread count.
/// </summary>
/// <remarks>
/// At a few thousand points this exact sum is a few milliseconds per iteration: N^2 = 25M pairs at N = 5,000 are ~1.6M
/// 16-wide vector steps, cheaper than a Barnes-Hut tree's pointer-chasing at that size. It is O(N^2): for tens of
/// thousands of points a tree (or FFT interpolation) would be needed.
/// </remarks>
internal sealed class TsneGradient
{
    private readonly TsneAffinities _p;
    private readonly int _threads;
    private readonly double[] _rowZ, _repulsionX, _repulsionY, _attractionX, _attractionY, _errorTerms, _pSums;

    public TsneGradient(TsneAffinities p, int threads)
    {
        _p = p;
        _threads = threads;
        int n = p.Count;
        _rowZ = new double[n];
        _repulsionX = new double[n];
        _repulsionY = new double[n];
        _attractionX = new double[n];
        _attractionY = new double[n];
        _errorTerms = new double[n];
        _pSums = new double[n];
    }

    /// <summary>
    /// Writes dC/dy into (<paramref name="gx"/>, <paramref name="gy"/>) for the embedding (<paramref name="x"/>,
    /// <paramref name="y"/>) with P multiplied by <paramref name="exaggeration"/>, and returns the cost with that
    /// exaggerated P when <paramref name="computeError"/> (NaN otherwise), as scikit-learn reports it.
    /// </summary>
    public double Compute(float[] x, float[] y, float[] gx, float[] gy, double exaggeration, bool computeError)
    {
        int n = _p.Count;
        var job = new RowJob(this, x, y, (float)exaggeration, computeError);
        ForkJoin.Run(n, Knn.Parts(n, _threads), ref job);
        double z = 0;
        for (int i = 0; i < n; i++)
        {
            z += _rowZ[i];
        }
        for (int i = 0; i < n; i++)
        {
            gx[i] = (float)(4 * (_attractionX[i] - _repulsionX[i] / z));
            gy[i] = (float)(4 * (_attractionY[i] - _repulsionY[i] / z));
        }
        if (!computeError)
        {
            return double.NaN;
        }
        // sum p (ln p - ln w) + (sum p) ln Z, the terms ln q = ln w - ln Z split so rows need not know Z.
        double error = 0, mass = 0;
        for (int i = 0; i < n; i++)
        {
            error += _errorTerms[i];
            mass += _pSums[i];
        }
        return error + mass * Math.Log(z);
    }

    /// <summary>The cost alone (no exaggeration), for a finished embedding.</summary>
    public double Cost(float[] x, float[] y)
    {
        var gx = new float[x.Length];
        var gy = new float[y.Length];
        return Compute(x, y, gx, gy, 1, computeError: true);
    }

    /// <summary>Sums of w, w^2 dx and w^2 dy of point (xi, yi) against every point, itself included (w = 1, dx = dy = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (float W, float Fx, float Fy) Repulsion(float xi, float yi, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length, j = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        float w = 0, fx = 0, fy = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var (vxi, vyi, one) = (Vector512.Create(xi), Vector512.Create(yi), Vector512<float>.One);
            Vector512<float> sw = default, sx = default, sy = default;
            for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                var dx = vxi - Vector512.LoadUnsafe(ref xr, (nuint)j);
                var dy = vyi - Vector512.LoadUnsafe(ref yr, (nuint)j);
                var q = one / Vector512.FusedMultiplyAdd(dy, dy, Vector512.FusedMultiplyAdd(dx, dx, one));
                sw += q;
                var q2 = q * q;
                sx = Vector512.FusedMultiplyAdd(q2, dx, sx);
                sy = Vector512.FusedMultiplyAdd(q2, dy, sy);
            }
            (w, fx, fy) = (Vector512.Sum(sw), Vector512.Sum(sx), Vector512.Sum(sy));
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var (vxi, vyi, one) = (Vector256.Create(xi), Vector256.Create(yi), Vector256<float>.One);
            Vector256<float> sw = default, sx = default, sy = default;
            for (; j <= n - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var dx = vxi - Vector256.LoadUnsafe(ref xr, (nuint)j);
                var dy = vyi - Vector256.LoadUnsafe(ref yr, (nuint)j);
                var q = one / Vector256.FusedMultiplyAdd(dy, dy, Vector256.FusedMultiplyAdd(dx, dx, one));
                sw += q;
                var q2 = q * q;
                sx = Vector256.FusedMultiplyAdd(q2, dx, sx);
                sy = Vector256.FusedMultiplyAdd(q2, dy, sy);
            }
            (w, fx, fy) = (Vector256.Sum(sw), Vector256.Sum(sx), Vector256.Sum(sy));
        }
        for (; j < n; j++)
        {
            float dx = xi - x[j], dy = yi - y[j];
            float q = 1f / (1f + dx * dx + dy * dy);
            w += q;
            fx += q * q * dx;
            fy += q * q * dy;
        }
        return (w, fx, fy);
    }

    private readonly struct RowJob(TsneGradient owner, float[] x, float[] y, float exaggeration, bool computeError) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var p = owner._p;
            for (int i = start; i < end; i++)
            {
                float xi = x[i], yi = y[i];
                var (w, fx, fy) = Repulsion(xi, yi, x, y);
                owner._rowZ[i] = w - 1.0; // without the point itself
                owner._repulsionX[i] = fx;
                owner._repulsionY[i] = fy;
                double ax = 0, ay = 0, error = 0, mass = 0;
                for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
                {
                    int j = p.Columns[e];
                    float pij = p.Values[e] * exaggeration;
                    float dx = xi - x[j], dy = yi - y[j];
                    float wij = 1f / (1f + dx * dx + dy * dy);
                    ax += pij * wij * dx;
                    ay += pij * wij * dy;
                    if (computeError && pij > 0)
                    {
                        error += pij * (Math.Log(pij) - Math.Log(wij));
                        mass += pij;
                    }
                }
                owner._attractionX[i] = ax;
                owner._attractionY[i] = ay;
                owner._errorTerms[i] = error;
                owner._pSums[i] = mass;
            }
        }
    }
}
