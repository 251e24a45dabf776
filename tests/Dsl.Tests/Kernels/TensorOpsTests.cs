using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The eager tensor operations (<c>Tensor.Ops.cs</c>) against PyTorch (tensor_ops.json: matmul broadcasting, broadcasting
/// arithmetic, reductions, cat/split/chunk, view) and against a naive loop on strided operands; the error messages of
/// shapes that break a rule.
/// </summary>
public class TensorOpsTests
{
    private const string File = "tensor_ops.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    private Tensor Load(FixtureTensor t) => t.Longs is not null ? Tensor.From(t.Longs, Target, t.Shape) : Tensor.From(t.Data, Target, t.Shape);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Operation_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        string op = c.String("op");
        int? dim = c.HasAttr("dim") ? c.Int("dim") : null;
        bool keep = c.HasAttr("keepdim") && c.Bool("keepdim");
        switch (op)
        {
            case "matmul":
            case "add":
            case "sub":
            case "mul":
            case "div":
            {
                var (a, b) = (Load(c.Input("a")), Load(c.Input("b")));
                var y = op switch
                {
                    "matmul" => Tensor.MatMul(a, b),
                    "add" => a + b,
                    "sub" => a - b,
                    "mul" => a * b,
                    _ => a / b,
                };
                AssertTensor(c.Expected("y"), y, Tolerance.Reduction, c);
                break;
            }
            case "sum":
            case "mean":
            {
                var x = Load(c.Input("x"));
                var y = op == "sum" ? (dim is int d ? x.Sum(d, keep) : x.Sum()) : (dim is int e ? x.Mean(e, keep) : x.Mean());
                AssertTensor(c.Expected("y"), y, Tolerance.Reduction, c);
                break;
            }
            case "max":
            {
                var x = Load(c.Input("x"));
                if (dim is int d)
                {
                    var (values, indices) = x.Max(d, keep);
                    AssertTensor(c.Expected("values"), values, Tolerance.Elementwise, c);
                    AssertTensor(c.Expected("indices"), indices, Tolerance.Elementwise, c);
                }
                else
                {
                    AssertTensor(c.Expected("values"), x.Max(), Tolerance.Elementwise, c);
                }
                break;
            }
            case "argmax":
            {
                var x = Load(c.Input("x"));
                AssertTensor(c.Expected("indices"), dim is int d ? x.ArgMax(d, keep) : x.ArgMax(), Tolerance.Elementwise, c);
                break;
            }
            case "cat":
            {
                var parts = Enumerable.Range(0, c.Int("count")).Select(i => Load(c.Input($"x{i}"))).ToArray();
                AssertTensor(c.Expected("y"), Tensor.Cat(c.Int("dim"), parts), Tolerance.Elementwise, c);
                break;
            }
            case "split":
            case "chunk":
            {
                var x = Load(c.Input("x"));
                var pieces = op == "chunk" ? x.Chunk(c.Int("chunks"), c.Int("dim"))
                    : c.HasAttr("size") ? x.Split(c.Int("size"), c.Int("dim")) : x.Split(c.Ints("sizes"), c.Int("dim"));
                Assert.Equal(c.Int("count"), pieces.Length);
                for (int i = 0; i < pieces.Length; i++)
                {
                    AssertTensor(c.Expected($"y{i}"), pieces[i], Tolerance.Elementwise, c);
                }
                break;
            }
            case "view":
            {
                var x = Load(c.Input("x"));
                var y = x.View(c.Ints("shape"));
                Assert.Same(x.Storage, y.Storage);
                AssertTensor(c.Expected("y"), y, Tolerance.Elementwise, c);
                break;
            }
            default:
                throw new InvalidOperationException($"{c}: no test for op '{op}'.");
        }
    }

    private static void AssertTensor(FixtureTensor expected, Tensor actual, Tolerance tolerance, FixtureCase c)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        if (expected.Longs is not null)
        {
            Assert.Equal(expected.Longs, actual.ToInt64Array());
        }
        else
        {
            tolerance.AssertClose(expected.Data, actual.ToArray(), $"{c} {expected.Name}");
        }
    }

    [Fact]
    public void Dot_of_the_issue_example_is_14()
    {
        var y = Tensor.Dot(Tensor.From(new[] { 4f, 2f }, Target, 2), Tensor.From(new[] { 3f, 1f }, Target, 2));
        Assert.Empty(y.Shape);
        Assert.Equal(14f, y.Item());
    }

    [Fact]
    public void Mv_and_mm_reject_other_ranks_naming_the_shapes()
    {
        var m = Tensor.Zeros(Target, 2, 3);
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Mv(m, m));
        Assert.Contains("[2,3] and [2,3]", ex.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Mm(m, Tensor.Zeros(Target, 3)));
        Assert.Throws<ArgumentException>(() => Tensor.Dot(m, m));
    }

    [Fact]
    public void MatMul_with_different_inner_dimensions_names_both_shapes_and_the_rule()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(Target, 2, 4, 3), Tensor.Zeros(Target, 5, 6)));
        Assert.Contains("[2,4,3] and [5,6]", ex.Message);
        Assert.Contains("3 columns but the second 5 rows", ex.Message);
    }

    [Fact]
    public void MatMul_whose_batch_dimensions_do_not_broadcast_names_both_shapes_and_the_rule()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(Target, 3, 2, 4), Tensor.Zeros(Target, 2, 4, 5)));
        Assert.Contains("[3,2,4] and [2,4,5]", ex.Message);
        Assert.Contains("must be equal, or one of them 1, or missing", ex.Message);
    }

    [Fact]
    public void Broadcasting_mismatch_names_both_shapes_the_dimension_and_the_rule()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(Target, 2, 3) + Tensor.Zeros(Target, 4, 3));
        Assert.Contains("[2,3] and [4,3]", ex.Message);
        Assert.Contains("dimension -2 has sizes 2 and 4", ex.Message);
    }

    [Fact]
    public void MatMul_reads_transposed_and_sliced_operands_like_their_contiguous_copies()
    {
        var rng = new Random(5);
        var a = Tensor.From(Gradients.RandomInputs.Normal(rng, 2 * 5 * 4), Target, 2, 5, 4).Transpose(1, 2); // [2,4,5], transposed view
        var b = Tensor.From(Gradients.RandomInputs.Normal(rng, 6 * 7), Target, 6, 7).Narrow(1, 1, 5).Transpose(0, 1); // [5,6], strided
        var y = Tensor.MatMul(a, b);
        var reference = Naive.MatMul(a.Contiguous().ToArray(), b.Contiguous().ToArray(), 2, 4, 5, 6, batchB: false);
        Tolerance.Reduction.AssertClose(reference, y.ToArray(), "strided matmul");
    }

    [Fact]
    public void Arithmetic_broadcasts_strided_and_expanded_views()
    {
        var rng = new Random(6);
        var a = Tensor.From(Gradients.RandomInputs.Normal(rng, 3 * 4), Target, 3, 4).Transpose(0, 1); // [4,3] strided
        var b = Tensor.From(Gradients.RandomInputs.Normal(rng, 4), Target, 4, 1).Expand(4, 3);        // stride 0
        float[] ad = a.Contiguous().ToArray(), bd = b.Contiguous().ToArray();
        var expected = new double[12];
        for (int i = 0; i < 12; i++)
        {
            expected[i] = (double)ad[i] * bd[i] - 2.0;
        }
        Tolerance.Elementwise.AssertClose(expected, (a * b - 2f).ToArray(), "strided broadcast");
        var neg = (-a).ToArray();
        Tolerance.Elementwise.AssertClose(ad.Select(v => -(double)v).ToArray(), neg, "negation");
    }

    [Fact]
    public void Cat_of_views_and_slices_with_steps()
    {
        var x = Tensor.From(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), Target, 4, 6);
        var odd = x.Slice(1, 1, 6, 2);          // columns 1, 3, 5
        Assert.Equal(new[] { 4, 3 }, odd.Shape);
        Assert.Equal(new float[] { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23 }, odd.ToArray());
        var last = x.Slice(0, -1, int.MaxValue); // the last row, clamped as in Python
        Assert.Equal(new float[] { 18, 19, 20, 21, 22, 23 }, last.ToArray());
        var joined = Tensor.Cat(1, odd, x.Transpose(0, 1).Narrow(0, 0, 1).Transpose(0, 1));
        Assert.Equal(new[] { 4, 4 }, joined.Shape);
        Assert.Equal(new float[] { 1, 3, 5, 0, 7, 9, 11, 6, 13, 15, 17, 12, 19, 21, 23, 18 }, joined.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Cat(0, x, Tensor.Zeros(Target, 2, 5)));
        Assert.Contains("[4,6] and [2,5]", ex.Message);
    }

    [Fact]
    public void View_of_the_issue_example_shares_memory()
    {
        var x = Tensor.From(Enumerable.Range(0, 60).Select(i => (float)i).ToArray(), Target, 4, 3, 5);
        var y = x.View(12, 5);
        Assert.Equal(new[] { 12, 5 }, y.Shape);
        Assert.Same(x.Storage, y.Storage);
        Assert.Equal(x.ToArray(), y.ToArray());
    }

    [Fact]
    public void Reductions_of_a_transposed_view_and_empty_dimensions()
    {
        var x = Tensor.From(new float[] { 1, 5, 2, 4, 3, 6 }, Target, 2, 3).Transpose(0, 1); // [[1,4],[5,3],[2,6]]
        Assert.Equal(new float[] { 8, 13 }, x.Sum(0).ToArray());
        var (values, indices) = x.Max(1, keepDim: true);
        Assert.Equal(new[] { 3, 1 }, values.Shape);
        Assert.Equal(new float[] { 4, 5, 6 }, values.ToArray());
        Assert.Equal(new long[] { 1, 0, 1 }, indices.ToInt64Array());
        Assert.Equal(5L, x.ArgMax().ToInt64Array()[0]);
        var empty = Tensor.Zeros(Target, 2, 0);
        Assert.Equal(new float[] { 0, 0 }, empty.Sum(1).ToArray());
        Assert.Throws<ArgumentException>(() => empty.Max(1));
    }

    /// <summary>Float64 loops: the reference for products on strided operands.</summary>
    private static class Naive
    {
        public static double[] MatMul(float[] a, float[] b, int batch, int n, int k, int m, bool batchB)
        {
            var y = new double[batch * n * m];
            for (int p = 0; p < batch; p++)
            {
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < m; j++)
                    {
                        double s = 0;
                        for (int q = 0; q < k; q++)
                        {
                            s += (double)a[(p * n + i) * k + q] * b[((batchB ? p : 0) * k + q) * m + j];
                        }
                        y[(p * n + i) * m + j] = s;
                    }
                }
            }
            return y;
        }
    }
}
