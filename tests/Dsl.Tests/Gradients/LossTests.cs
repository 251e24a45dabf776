using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>Loss.Nll</c>, <c>Loss.CrossEntropy</c> and <c>Loss.Mse</c> (mean reduction): value and gradient against PyTorch
/// (losses.json) and central differences of float64 definitions, plus the errors for bad labels and shapes.
/// </summary>
public class LossTests
{
    private const string File = "losses.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_value_and_gradient_match_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var x = c.Input("x").ToTensor(Target);
        LossResult r = c.String("loss") switch
        {
            "nll" => Loss.Nll(x, c.Input("labels").ToTensor(Target)),
            "cross_entropy" => Loss.CrossEntropy(x, c.Input("labels").ToTensor(Target)),
            "mse" => Loss.Mse(x, c.Input("target").ToTensor(Target)),
            string other => throw new InvalidDataException($"{c}: unknown loss {other}"),
        };
        Tolerance.Reduction.AssertClose(c.Expected("loss").Data[0], r.Value, $"{c} loss");
        Assert.Equal(x.Shape, r.Gradient.Shape);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data, r.Gradient.ToArray(), $"{c} dx");
    }

    [Fact]
    public void Nll_gradient_matches_finite_differences()
    {
        var rng = new Random(3);
        const int n = 5, classes = 4;
        float[] x = RandomInputs.Normal(rng, n * classes);
        long[] labels = RandomInputs.Labels(rng, n, classes);
        var r = Loss.Nll(Tensor.From(x, Target, n, classes), Tensor.From(labels, Target, n));
        Func<double[], double> f = v => Enumerable.Range(0, n).Sum(i => -v[i * classes + labels[i]]) / n;
        CheckAgainstFiniteDifferences(f, x, r, "nll");
    }

    [Fact]
    public void CrossEntropy_gradient_matches_finite_differences()
    {
        var rng = new Random(4);
        const int n = 6, classes = 5;
        float[] x = RandomInputs.Normal(rng, n * classes, 3.0);
        long[] labels = RandomInputs.Labels(rng, n, classes);
        var r = Loss.CrossEntropy(Tensor.From(x, Target, n, classes), Tensor.From(labels, Target, n));
        Func<double[], double> f = v =>
        {
            double[] logp = SoftmaxTests.Reference(v, n, classes, log: true);
            return Enumerable.Range(0, n).Sum(i => -logp[i * classes + labels[i]]) / n;
        };
        CheckAgainstFiniteDifferences(f, x, r, "cross-entropy");
    }

    [Fact]
    public void Mse_gradient_matches_finite_differences()
    {
        var rng = new Random(5);
        const int n = 3, m = 7;
        float[] x = RandomInputs.Normal(rng, n * m);
        float[] target = RandomInputs.Normal(rng, n * m);
        var r = Loss.Mse(Tensor.From(x, Target, n, m), Tensor.From(target, Target, n, m));
        Func<double[], double> f = v => v.Select((e, i) => (e - target[i]) * (e - target[i])).Sum() / v.Length;
        CheckAgainstFiniteDifferences(f, x, r, "mse");
    }

    [Theory]
    [InlineData("nll", 4)]
    [InlineData("nll", -1)]
    [InlineData("cross_entropy", 4)]
    [InlineData("cross_entropy", -1)]
    public void Label_outside_the_classes_is_reported_with_its_row(string loss, long badLabel)
    {
        var x = Tensor.From(RandomInputs.Normal(new Random(6), 3 * 4), Target, 3, 4);
        var labels = Tensor.From(new long[] { 0, 3, badLabel }, Target, 3);
        // The device may throw at once or flag the row for LossResult.Value to throw: either way reading the value fails.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => (loss == "nll" ? Loss.Nll(x, labels) : Loss.CrossEntropy(x, labels)).Value);
        Assert.Contains("row 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mse_with_mismatched_shapes_is_rejected()
    {
        var x = Tensor.Zeros(Target, 3, 4);
        var target = Tensor.Zeros(Target, 4, 3);
        var e = Assert.Throws<ArgumentException>(() => Loss.Mse(x, target));
        Assert.Contains("[3,4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4,3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nll_with_one_label_too_few_is_rejected()
    {
        var x = Tensor.Zeros(Target, 3, 4);
        var labels = Tensor.From(new long[] { 0, 1 }, Target, 2);
        Assert.Throws<ArgumentException>(() => Loss.Nll(x, labels));
    }

    [Fact]
    public void CrossEntropy_of_rank_3_scores_with_one_label_per_sample_is_rejected()
    {
        var x = Tensor.Zeros(Target, 2, 3, 4);
        var labels = Tensor.From(new long[] { 0, 1 }, Target, 2);
        var e = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(x, labels));
        Assert.Contains("[2,3,4]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nll_with_float_labels_is_rejected()
    {
        var x = Tensor.Zeros(Target, 2, 3);
        var labels = Tensor.From(new float[] { 0, 1 }, Target, 2);
        Assert.Throws<ArgumentException>(() => Loss.Nll(x, labels));
    }

    private static void CheckAgainstFiniteDifferences(Func<double[], double> f, float[] x, LossResult r, string what)
    {
        double[] xd = RandomInputs.ToDoubles(x);
        Tolerance.Reduction.AssertClose(f(xd), r.Value, $"{what} value vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(f, xd), r.Gradient.ToArray(), $"{what} gradient vs finite differences");
    }
}
