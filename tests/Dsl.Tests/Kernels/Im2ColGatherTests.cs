using Dsl.Devices.Cpu.Convolution;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The im2col gather only moves values, so its column matrix must equal, bit for bit, the one picked element by element
/// from the definition (row (c, kh, kw), column (sample, oh, ow) holds x[c, oh*sH + kh*dH - padTop, ow*sW + kw*dW - padLeft],
/// zero outside the input). Cases cover every path of <c>Im2Col.Gather</c>: dense, stride 1 and 2 through the zero-bordered
/// buffers (rows narrower than, equal to and wider than 32 floats, odd widths, every padding parity), unpadded 1x1
/// stride 1 copied a plane at a time, unpadded 1x1 stride 2 picked straight into the columns, stride 3 and narrow
/// outputs through the element-by-element loop, dilation, asymmetric padding, a sample range inside a longer array and
/// a range of rows. The column buffer starts as NaN, so a column the gather does not write shows.
/// The col2im scatter of column gradients back into dx planes is checked on the same shapes against the element loop of
/// its definition (each dx float the sum of its column-gradient terms in kernel-offset order, after its old value when
/// accumulating), also bit for bit, for both overwriting and accumulating and for a range of planes.
/// </summary>
public sealed class Im2ColGatherTests
{
    private static readonly Dictionary<string, Conv2dGeometry> s_shapes = new()
    {
        ["resnet 3x3 s2 p1 28x28"] = new(3, 4, 28, 28, 8, 3, 3, 2, 2, 1, 1, 1, 1),
        ["resnet 3x3 s2 p1 14x14"] = new(3, 4, 14, 14, 8, 3, 3, 2, 2, 1, 1, 1, 1),
        ["resnet 1x1 s2 28x28"] = new(3, 4, 28, 28, 8, 1, 1, 2, 2),
        ["resnet 1x1 s2 14x14"] = new(2, 3, 14, 14, 8, 1, 1, 2, 2),
        ["3x3 s2 p1 odd 13x29"] = new(2, 3, 13, 29, 4, 3, 3, 2, 2, 1, 1, 1, 1),
        ["3x3 s2 p0 odd 11x33"] = new(2, 2, 11, 33, 4, 3, 3, 2, 2),
        ["5x5 s2 p2 17x67 (two full blocks and a tail)"] = new(2, 2, 17, 67, 4, 5, 5, 2, 2, 2, 2, 2, 2),
        ["3x3 s2 p2 16x64 (whole blocks)"] = new(1, 3, 16, 64, 4, 3, 3, 2, 2, 2, 2, 2, 2),
        ["3x3 s2 asymmetric 12x23"] = new(2, 3, 12, 23, 4, 3, 3, 2, 2, 0, 1, 2, 0),
        ["2x3 s2 dilation 2 19x21"] = new(2, 2, 19, 21, 4, 2, 3, 2, 2, 1, 2, 1, 2, 2, 2),
        ["3x3 s(3,2) p1 20x20"] = new(2, 2, 20, 20, 4, 3, 3, 3, 2, 1, 1, 1, 1),
        ["1x1 s(1,2) p1 9x15"] = new(2, 2, 9, 15, 4, 1, 1, 1, 2, 1, 1, 1, 1),
        ["1x1 s2 odd 13x29"] = new(2, 3, 13, 29, 4, 1, 1, 2, 2),
        ["1x1 s(3,2) 11x70 (two full blocks and a tail)"] = new(2, 2, 11, 70, 4, 1, 1, 3, 2),
        ["1x1 s2 right and bottom padding 10x14"] = new(2, 2, 10, 14, 4, 1, 1, 2, 2, 0, 0, 1, 1),
        ["3x3 s1 p1 15x15"] = new(2, 3, 15, 15, 4, 3, 3, 1, 1, 1, 1, 1, 1),
        ["3x3 s1 p2 dilation 2 10x37"] = new(2, 2, 10, 37, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
        ["5x5 s1 asymmetric 7x9"] = new(2, 2, 7, 9, 4, 5, 5, 1, 1, 1, 2, 3, 2),
        ["3x3 s3 p1 22x25"] = new(2, 2, 22, 25, 4, 3, 3, 3, 3, 1, 1, 1, 1),
        ["3x3 s2 p1 6x6 (output rows of 3)"] = new(2, 2, 6, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1),
        ["3x3 dense 9x11"] = new(2, 2, 9, 11, 4, 3, 3),
        ["densenet 1x1 s1 28x28 (one run per plane)"] = new(2, 3, 28, 28, 4, 1, 1),
        ["1x1 s1 odd 5x7"] = new(3, 2, 5, 7, 4, 1, 1),
        ["grouped 3x3 s2 p1 10x10"] = new(2, 4, 10, 10, 4, 3, 3, 2, 2, 1, 1, 1, 1, Groups: 2),
        ["depthwise 3x3 s2 p1 batch 1"] = new(1, 3, 14, 14, 3, 3, 3, 2, 2, 1, 1, 1, 1, Groups: 3),
    };

    public static TheoryData<string> Shapes()
    {
        var data = new TheoryData<string>();
        foreach (string shape in s_shapes.Keys)
        {
            data.Add(shape);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Columns_equal_the_element_by_element_gather(string shape) => Check(s_shapes[shape], shape.Length);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Scatter_equals_the_element_by_element_sum(string shape)
    {
        var g = s_shapes[shape];
        var p = new ConvPlan(g, long.MaxValue);
        var random = new Random(shape.Length + 100);
        int plane = g.Height * g.Width, sample = g.InChannels * plane;
        const int DxOffset = 3;
        foreach (var (n0, samples) in new[] { (0, g.Batch), (1, g.Batch) })
        {
            var dcol = Uniform(random, p.Rows * samples * p.Positions);
            var before = Uniform(random, DxOffset + (g.Batch + 1) * sample);
            int planes = samples * g.InChannels, planeStart = planes / 3, planeEnd = Math.Max(planeStart + 1, planes * 2 / 3);
            foreach (bool accumulate in new[] { false, true })
            {
                var expected = (float[])before.Clone();
                ReferenceScatter(p, dcol, samples, expected, DxOffset, n0, planeStart, planeEnd, accumulate);
                var dx = (float[])before.Clone();
                if (!accumulate)
                {
                    // The scatter must write every float of its planes: a NaN left behind shows.
                    dx.AsSpan(DxOffset + (n0 * g.InChannels + planeStart) * plane, (planeEnd - planeStart) * plane).Fill(float.NaN);
                }
                Im2Col.Scatter(p, dcol, samples, dx, DxOffset, n0, planeStart, planeEnd, accumulate);
                Assert.True(expected.AsSpan().SequenceEqual(dx),
                    $"dx of {g}, samples [{n0}, {n0 + samples}), planes [{planeStart}, {planeEnd}), accumulate {accumulate}: first difference at {FirstDifference(expected, dx)}");
            }
        }
    }

    /// <summary>
    /// Every shape in turn on one thread, widest planes first: the zero-bordered buffer the stride-1 and stride-2 paths
    /// keep per thread is reused with other borders and phases, and must not leak one shape's values into another's.
    /// </summary>
    [Fact]
    public void Shapes_in_turn_on_one_thread_share_the_buffer_without_leaking()
    {
        foreach (var (shape, g) in s_shapes.OrderByDescending(s => s.Value.Height * s.Value.Width))
        {
            Check(g, shape.Length + 1);
        }
    }

    private static void Check(Conv2dGeometry g, int seed)
    {
        var p = new ConvPlan(g, long.MaxValue);
        var random = new Random(seed);
        int sample = g.InChannels * g.Height * g.Width;
        const int XOffset = 5;
        // The batch plus one sample past it, so samples [1, Batch + 1) are a range inside the array, not at its end.
        var x = Uniform(random, XOffset + (g.Batch + 1) * sample);
        foreach (var (n0, samples) in new[] { (0, g.Batch), (1, g.Batch), (g.Batch, 1) })
        {
            var expected = Reference(p, x, XOffset, n0, samples);
            var col = new float[expected.Length];
            Array.Fill(col, float.NaN);
            Im2Col.Gather(p, x, XOffset, n0, samples, col, 0, p.Rows);
            Assert.True(expected.AsSpan().SequenceEqual(col), $"columns of {g}, samples [{n0}, {n0 + samples}): first difference at {FirstDifference(expected, col)}");

            int rowStart = p.Rows / 3, rowEnd = Math.Max(rowStart + 1, p.Rows * 2 / 3);
            Array.Fill(col, float.NaN);
            Im2Col.Gather(p, x, XOffset, n0, samples, col, rowStart, rowEnd);
            int cols = samples * p.Positions;
            Assert.True(expected.AsSpan(rowStart * cols, (rowEnd - rowStart) * cols).SequenceEqual(col.AsSpan(rowStart * cols, (rowEnd - rowStart) * cols)),
                $"rows [{rowStart}, {rowEnd}) of {g}, samples [{n0}, {n0 + samples})");
        }
    }

    /// <summary>The column matrix [Rows, samples*OH*OW] picked element by element from the definition.</summary>
    private static float[] Reference(in ConvPlan p, float[] x, int xOffset, int n0, int samples)
    {
        var col = new float[p.Rows * samples * p.Positions];
        foreach (var (c, input) in Terms(p, n0, samples))
        {
            col[c] = input >= 0 ? x[xOffset + input] : 0f;
        }
        return col;
    }

    /// <summary>col2im from the definition: each column gradient added into the dx float it came from, kernel offsets ascending.</summary>
    private static void ReferenceScatter(in ConvPlan p, float[] dcol, int samples, float[] dx, int dxOffset, int n0, int planeStart, int planeEnd, bool accumulate)
    {
        var g = p.G;
        int plane = g.Height * g.Width;
        if (!accumulate)
        {
            Array.Clear(dx, dxOffset + (n0 * g.InChannels + planeStart) * plane, (planeEnd - planeStart) * plane);
        }
        foreach (var (c, input) in Terms(p, n0, samples))
        {
            int local = input / plane - n0 * g.InChannels;
            if (input >= 0 && local >= planeStart && local < planeEnd)
            {
                dx[dxOffset + input] += dcol[c];
            }
        }
    }

    /// <summary>
    /// Every element of the column matrix of samples [n0, n0 + samples): its index and the index in x (from the batch's
    /// start) that it holds, or -1 outside the input: row (c, kh, kw) and column (sample, oh, ow) hold
    /// x[c, oh*sH + kh*dH - padTop, ow*sW + kw*dW - padLeft]. Rows come in order, so a dx float meets its terms by
    /// kernel offset ascending.
    /// </summary>
    private static IEnumerable<(int Col, int Input)> Terms(ConvPlan p, int n0, int samples)
    {
        var g = p.G;
        int cols = samples * p.Positions;
        for (int c = 0; c < g.InChannels; c++)
        {
            for (int kh = 0; kh < g.KernelH; kh++)
            {
                for (int kw = 0; kw < g.KernelW; kw++)
                {
                    int row = (c * g.KernelH + kh) * g.KernelW + kw;
                    for (int i = 0; i < samples; i++)
                    {
                        for (int oh = 0; oh < p.OutHeight; oh++)
                        {
                            for (int ow = 0; ow < p.OutWidth; ow++)
                            {
                                int ih = oh * g.StrideH + kh * g.DilationH - g.PadTop;
                                int iw = ow * g.StrideW + kw * g.DilationW - g.PadLeft;
                                bool inside = ih >= 0 && ih < g.Height && iw >= 0 && iw < g.Width;
                                int column = i * p.Positions + oh * p.OutWidth + ow;
                                yield return (row * cols + column, inside ? (((n0 + i) * g.InChannels + c) * g.Height + ih) * g.Width + iw : -1);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int FirstDifference(float[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
