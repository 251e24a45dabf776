using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// <see cref="Device.RecurrentForward"/> and <see cref="Device.RecurrentBackward"/> for every cell, both directions, with
/// and without padded rows, against a float64 forward written from PyTorch's equations and central differences of it
/// through all six steps: outputs (written into one half of a [N,T,2H] destination), last states, dx, dh0, dc0 and the
/// accumulated weight and bias gradients.
/// </summary>
public class RecurrentTests
{
    private const int N = 3, T = 6, D = 3, H = 4;

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    public static TheoryData<RecurrentKind, bool, bool> Cases()
    {
        var data = new TheoryData<RecurrentKind, bool, bool>();
        foreach (var kind in new[] { RecurrentKind.RnnTanh, RecurrentKind.RnnRelu, RecurrentKind.Lstm, RecurrentKind.Gru })
        {
            foreach (bool reverse in new[] { false, true })
            {
                foreach (bool padded in new[] { false, true })
                {
                    data.Add(kind, reverse, padded);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Recurrent_layer_matches_float64_reference_and_finite_differences_through_time(RecurrentKind kind, bool reverse, bool padded)
    {
        long[]? lengths = padded ? new long[] { 6, 0, 3 } : null;
        var reference = new RecurrentReference(kind, N, T, D, H, reverse, lengths);
        var rng = new Random(50 + (int)kind * 4 + (reverse ? 2 : 0) + (padded ? 1 : 0));
        float[] v = new float[reference.Count];
        RandomInputs.Normal(rng, reference.WihAt).CopyTo(v, 0);
        RandomInputs.Uniform(rng, reference.Count - reference.WihAt, -0.6, 0.6).CopyTo(v, reference.WihAt);
        bool lstm = kind == RecurrentKind.Lstm;
        var g = new RecurrentGeometry(kind, N, T, D, H, reverse, OutputStride: 2 * H, OutputOffset: reverse ? H : 0);
        int gh = g.GateWidth;

        Tensor Slice(int at, int count, params int[] shape) => Tensor.From(v.AsSpan(at, count), Target, shape);
        var x = Slice(reference.XAt, N * T * D, N, T, D);
        var h0 = Slice(reference.H0At, N * H, N, H);
        var c0 = lstm ? Slice(reference.C0At, N * H, N, H) : null;
        var wih = Slice(reference.WihAt, gh * D, gh, D);
        var whh = Slice(reference.WhhAt, gh * H, gh, H);
        var bih = Slice(reference.BihAt, gh, gh);
        var bhh = Slice(reference.BhhAt, gh, gh);
        var len = lengths is null ? null : Tensor.From(lengths, Target, N);
        var output = Tensor.Full(Target, float.NaN, N, T, 2 * H);
        var hLast = Tensor.Full(Target, float.NaN, N, H);
        var cLast = lstm ? Tensor.Full(Target, float.NaN, N, H) : null;
        // NaN everywhere: a read of a workspace cell the forward did not write shows up in every result.
        var ws = Tensor.Full(Target, float.NaN, (int)RecurrentWorkspace.Size(g));
        Target.RecurrentForward(g, x, len, wih, whh, bih, bhh, h0, c0, output, hLast, cLast, ws);

        double[] all = RandomInputs.ToDoubles(v);
        double[] expected = reference.Forward(all);
        float[] outs = output.ToArray();
        var mine = new float[N * T * H];
        for (int nt = 0; nt < N * T; nt++)
        {
            for (int j = 0; j < H; j++)
            {
                mine[nt * H + j] = outs[nt * 2 * H + g.OutputOffset + j];
                Assert.True(float.IsNaN(outs[nt * 2 * H + (H - g.OutputOffset) + j]), "the other direction's half was written");
            }
        }
        Tolerance.Reduction.AssertClose(expected.AsSpan(0, N * T * H), mine, $"{kind} output");
        Tolerance.Reduction.AssertClose(expected.AsSpan(N * T * H, N * H), hLast.ToArray(), $"{kind} hLast");
        if (lstm)
        {
            Tolerance.Reduction.AssertClose(expected.AsSpan(N * T * H + N * H, N * H), cLast!.ToArray(), $"{kind} cLast");
        }

        // Backward with upstream gradients on every output (padding included: it must be ignored) and on the last states.
        float[] dOut = RandomInputs.Normal(rng, N * T * 2 * H);
        float[] dhL = RandomInputs.Normal(rng, N * H);
        float[] dcL = RandomInputs.Normal(rng, N * H);
        float[] wStart = RandomInputs.Normal(rng, gh * (D + H + 2));
        var dx = Tensor.Full(Target, float.NaN, N, T, D);
        var dh0 = Tensor.Full(Target, float.NaN, N, H);
        var dc0 = lstm ? Tensor.Full(Target, float.NaN, N, H) : null;
        var dwih = Tensor.From(wStart.AsSpan(0, gh * D), Target, gh, D);
        var dwhh = Tensor.From(wStart.AsSpan(gh * D, gh * H), Target, gh, H);
        var dbih = Tensor.From(wStart.AsSpan(gh * (D + H), gh), Target, gh);
        var dbhh = Tensor.From(wStart.AsSpan(gh * (D + H + 1), gh), Target, gh);
        Target.RecurrentBackward(g, x, len, wih, whh, Tensor.From(dOut, Target, N, T, 2 * H), Tensor.From(dhL, Target, N, H),
            lstm ? Tensor.From(dcL, Target, N, H) : null, ws, dx, dh0, dc0, dwih, dwhh, dbih, dbhh, accumulateDx: false);

        var dy = new List<double>();
        for (int nt = 0; nt < N * T; nt++)
        {
            for (int j = 0; j < H; j++)
            {
                dy.Add(dOut[nt * 2 * H + g.OutputOffset + j]);
            }
        }
        dy.AddRange(RandomInputs.ToDoubles(dhL));
        if (lstm)
        {
            dy.AddRange(RandomInputs.ToDoubles(dcL));
        }
        double[] numeric = FiniteDifference.Gradient(reference.Forward, all, dy.ToArray());
        var tol = Tolerance.FiniteDifference;
        tol.AssertClose(numeric.AsSpan(reference.XAt, N * T * D), dx.ToArray(), $"{kind} dx");
        tol.AssertClose(numeric.AsSpan(reference.H0At, N * H), dh0.ToArray(), $"{kind} dh0");
        if (lstm)
        {
            tol.AssertClose(numeric.AsSpan(reference.C0At, N * H), dc0!.ToArray(), $"{kind} dc0");
        }
        tol.AssertClose(Plus(numeric, reference.WihAt, wStart, 0, gh * D), dwih.ToArray(), $"{kind} dW_ih");
        tol.AssertClose(Plus(numeric, reference.WhhAt, wStart, gh * D, gh * H), dwhh.ToArray(), $"{kind} dW_hh");
        tol.AssertClose(Plus(numeric, reference.BihAt, wStart, gh * (D + H), gh), dbih.ToArray(), $"{kind} db_ih");
        tol.AssertClose(Plus(numeric, reference.BhhAt, wStart, gh * (D + H + 1), gh), dbhh.ToArray(), $"{kind} db_hh");
    }

    [Fact]
    public void Recurrent_backward_adds_to_dx_when_asked()
    {
        var g = new RecurrentGeometry(RecurrentKind.Gru, 2, 5, 3, 2);
        var rng = new Random(71);
        var (x, wih, whh) = (Rand(rng, 2, 5, 3), Rand(rng, 6, 3), Rand(rng, 6, 2));
        var ws = Tensor.Zeros(Target, (int)RecurrentWorkspace.Size(g));
        var outp = Tensor.Zeros(Target, 2, 5, 2);
        Target.RecurrentForward(g, x, null, wih, whh, null, null, null, null, outp, Tensor.Zeros(Target, 2, 2), null, ws);
        var dOut = Rand(rng, 2, 5, 2);
        float[] start = RandomInputs.Normal(rng, 30);
        var fresh = Tensor.Zeros(Target, 2, 5, 3);
        var added = Tensor.From(start, Target, 2, 5, 3);
        Target.RecurrentBackward(g, x, null, wih, whh, dOut, null, null, ws, fresh, null, null, Tensor.Zeros(Target, 6, 3), Tensor.Zeros(Target, 6, 2), null, null, accumulateDx: false);
        Target.RecurrentBackward(g, x, null, wih, whh, dOut, null, null, ws, added, null, null, Tensor.Zeros(Target, 6, 3), Tensor.Zeros(Target, 6, 2), null, null, accumulateDx: true);
        Tolerance.Elementwise.AssertClose(fresh.ToArray().Select((f, i) => (double)f + start[i]).ToArray(), added.ToArray(), "accumulated dx");
    }

    [Fact]
    public void Recurrent_forward_with_a_short_workspace_names_the_size_it_needs()
    {
        var g = new RecurrentGeometry(RecurrentKind.Lstm, 2, 3, 4, 5);
        var e = Assert.Throws<ArgumentException>(() => Target.RecurrentForward(g, Tensor.Zeros(Target, 2, 3, 4), null, Tensor.Zeros(Target, 20, 4),
            Tensor.Zeros(Target, 20, 5), null, null, null, null, Tensor.Zeros(Target, 2, 3, 5), Tensor.Zeros(Target, 2, 5), null, Tensor.Zeros(Target, 10)));
        Assert.Contains($"RecurrentWorkspace.Size = {RecurrentWorkspace.Size(g)} floats", e.Message);
    }

    [Fact]
    public void Recurrent_forward_with_a_wrong_weight_names_the_expected_shape()
    {
        var g = new RecurrentGeometry(RecurrentKind.Gru, 2, 3, 4, 5);
        var e = Assert.Throws<ArgumentException>(() => Target.RecurrentForward(g, Tensor.Zeros(Target, 2, 3, 4), null, Tensor.Zeros(Target, 20, 4),
            Tensor.Zeros(Target, 15, 5), null, null, null, null, Tensor.Zeros(Target, 2, 3, 5), Tensor.Zeros(Target, 2, 5), null,
            Tensor.Zeros(Target, (int)RecurrentWorkspace.Size(g))));
        Assert.Contains("weight_ih should be [15,4]", e.Message);
    }

    private Tensor Rand(Random rng, params int[] shape) => Tensor.From(RandomInputs.Normal(rng, shape.Aggregate(1, (a, b) => a * b), 0.5), Target, shape);

    private static double[] Plus(double[] numeric, int at, float[] start, int startAt, int count)
        => Enumerable.Range(0, count).Select(i => numeric[at + i] + start[startAt + i]).ToArray();
}

/// <summary>The recurrent suite on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuRecurrentTests(IlgpuCpuAcceleratorFixture fixture) : RecurrentTests
{
    protected override Device Target => fixture.Device;
}

/// <summary>
/// The CPU's cell work splits a step's rows over threads once a step holds enough gate values: on a shape that takes
/// that path, two threads must give exactly what one thread gives (rows are independent within a step), and the
/// forward must match the float64 reference.
/// </summary>
public sealed class CpuRecurrentThreadingTests
{
    [Theory]
    [InlineData(RecurrentKind.Lstm)]
    [InlineData(RecurrentKind.Gru)]
    public void Split_cell_work_matches_one_thread_and_the_reference(RecurrentKind kind)
    {
        const int n = 96, t = 4, d = 8, h = 128;
        long[] lengths = Enumerable.Range(0, n).Select(i => (long)(i % (t + 1))).ToArray();
        var reference = new RecurrentReference(kind, n, t, d, h, Reverse: true, lengths);
        var rng = new Random(61);
        float[] v = new float[reference.Count];
        RandomInputs.Normal(rng, reference.WihAt).CopyTo(v, 0);
        RandomInputs.Uniform(rng, reference.Count - reference.WihAt, -0.2, 0.2).CopyTo(v, reference.WihAt);
        float[] dOut = RandomInputs.Normal(rng, n * t * h);
        var g = new RecurrentGeometry(kind, n, t, d, h, Reverse: true);
        int gh = g.GateWidth;
        bool lstm = kind == RecurrentKind.Lstm;

        float[][] Run(Device dev)
        {
            Tensor Slice(int at, int count, params int[] shape) => Tensor.From(v.AsSpan(at, count), dev, shape);
            var x = Slice(reference.XAt, n * t * d, n, t, d);
            var (wih, whh) = (Slice(reference.WihAt, gh * d, gh, d), Slice(reference.WhhAt, gh * h, gh, h));
            var len = Tensor.From(lengths, dev, n);
            var h0 = Slice(reference.H0At, n * h, n, h);
            var c0 = lstm ? Slice(reference.C0At, n * h, n, h) : null;
            var output = Tensor.Zeros(dev, n, t, h);
            var hLast = Tensor.Zeros(dev, n, h);
            var ws = Tensor.Zeros(dev, (int)RecurrentWorkspace.Size(g));
            dev.RecurrentForward(g, x, len, wih, whh, Slice(reference.BihAt, gh, gh), Slice(reference.BhhAt, gh, gh), h0, c0, output, hLast,
                lstm ? Tensor.Zeros(dev, n, h) : null, ws);
            var dx = Tensor.Zeros(dev, n, t, d);
            var dh0 = Tensor.Zeros(dev, n, h);
            var (dwih, dwhh, dbih, dbhh) = (Tensor.Zeros(dev, gh, d), Tensor.Zeros(dev, gh, h), Tensor.Zeros(dev, gh), Tensor.Zeros(dev, gh));
            dev.RecurrentBackward(g, x, len, wih, whh, Tensor.From(dOut, dev, n, t, h), null, null, ws, dx, dh0, lstm ? Tensor.Zeros(dev, n, h) : null,
                dwih, dwhh, dbih, dbhh, accumulateDx: false);
            return new[] { output.ToArray(), hLast.ToArray(), dx.ToArray(), dh0.ToArray(), dwih.ToArray(), dwhh.ToArray(), dbih.ToArray(), dbhh.ToArray() };
        }

        var one = Run(Device.CpuWithThreads(1));
        var two = Run(Device.CpuWithThreads(2));
        double[] expected = reference.Forward(RandomInputs.ToDoubles(v));
        Tolerance.Reduction.AssertClose(expected.AsSpan(0, n * t * h), two[0], $"{kind} output (two threads)");
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(one[k], two[k]);
        }
        for (int k = 4; k < one.Length; k++)
        {
            Tolerance.Reduction.AssertClose(one[k], two[k], $"{kind} weight gradient {k} (GEMMs may split differently)");
        }
    }
}
