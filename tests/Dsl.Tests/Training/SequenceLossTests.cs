using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// <c>Loss.Nll</c> and <c>Loss.CrossEntropy</c> over a sequence's [N,T,C] scores and [N,T] labels with
/// <c>ignoreIndex</c>: value and gradient against PyTorch (sequence_losses.json) and central differences of a float64
/// definition; every label ignored gives PyTorch's NaN and a zero gradient; bad shapes and labels are refused.
/// </summary>
public class SequenceLossTests
{
    private const string File = "sequence_losses.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_with_ignored_labels_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var x = c.Input("x").ToTensor(Target);
        var labels = c.Input("labels").ToTensor(Target);
        long ignore = c.Int("ignore_index");
        LossResult r = c.String("loss") switch
        {
            "nll" => Loss.Nll(x, labels, ignoreIndex: ignore),
            "cross_entropy" => Loss.CrossEntropy(x, labels, ignoreIndex: ignore),
            string other => throw new InvalidDataException($"{c}: unknown loss {other}"),
        };
        Tolerance.Reduction.AssertClose(c.Expected("loss").Data[0], r.Value, $"{c} loss");
        Assert.Equal(x.Shape, r.Gradient.Shape);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data, r.Gradient.ToArray(), $"{c} dx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sequence_gradient_with_padding_matches_finite_differences(bool logits)
    {
        var rng = new Random(logits ? 11 : 12);
        const int n = 3, t = 4, classes = 5;
        float[] x = RandomInputs.Normal(rng, n * t * classes, 2.0);
        long[] labels = RandomInputs.Labels(rng, n * t, classes);
        labels[2] = labels[7] = labels[11] = Loss.DefaultIgnoreIndex; // padding at the ends of rows
        var xs = Tensor.From(x, Target, n, t, classes);
        var ys = Tensor.From(labels, Target, n, t);
        var r = logits ? Loss.CrossEntropy(xs, ys) : Loss.Nll(xs, ys);
        double Reference(double[] v)
        {
            double[] logp = logits ? SoftmaxTests.Reference(v, n * t, classes, log: true) : v;
            double sum = 0;
            int counted = 0;
            for (int i = 0; i < n * t; i++)
            {
                if (labels[i] != Loss.DefaultIgnoreIndex)
                {
                    sum -= logp[i * classes + labels[i]];
                    counted++;
                }
            }
            return sum / counted;
        }
        double[] xd = RandomInputs.ToDoubles(x);
        Tolerance.Reduction.AssertClose(Reference(xd), r.Value, "value vs float64 reference");
        var grad = r.Gradient.ToArray();
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(Reference, xd), grad, "gradient vs finite differences");
        for (int j = 0; j < classes; j++)
        {
            Assert.Equal(0f, grad[7 * classes + j]); // an ignored step gets no gradient
        }
    }

    [Theory]
    [InlineData("nll")]
    [InlineData("cross_entropy")]
    public void Every_label_ignored_gives_pytorchs_nan_and_a_zero_gradient(string loss)
    {
        var x = Tensor.From(RandomInputs.Normal(new Random(13), 2 * 3 * 4), Target, 2, 3, 4);
        var labels = Tensor.From(Enumerable.Repeat(Loss.DefaultIgnoreIndex, 6).ToArray(), Target, 2, 3);
        var r = loss == "nll" ? Loss.Nll(x, labels) : Loss.CrossEntropy(x, labels);
        Assert.True(float.IsNaN(r.Value), $"expected NaN, got {r.Value}");
        Assert.All(r.Gradient.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void A_label_outside_the_classes_that_is_not_ignored_is_reported_with_its_row()
    {
        var x = Tensor.From(RandomInputs.Normal(new Random(14), 2 * 2 * 4), Target, 2, 2, 4);
        var labels = Tensor.From(new long[] { 0, Loss.DefaultIgnoreIndex, 3, -1 }, Target, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(x, labels).Value);
        Assert.Contains("row 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_of_the_wrong_shape_are_refused_naming_both_shapes()
    {
        var x = Tensor.Zeros(Target, 2, 3, 4);
        var e = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(x, Tensor.From(new long[6], Target, 3, 2)));
        Assert.Contains("[2,3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2,3,4]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scores_of_rank_four_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Loss.Nll(Tensor.Zeros(Target, 1, 2, 3, 4), Tensor.From(new long[6], Target, 1, 2, 3)));
        Assert.Contains("[N,T,C]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bits_per_character_and_perplexity_follow_from_the_mean_loss()
    {
        // A uniform model over 8 symbols: ln 8 nats = 3 bits per character, perplexity 8.
        double loss = Math.Log(8);
        Assert.Equal(3.0, LanguageModelMetrics.BitsPerCharacter(loss), 12);
        Assert.Equal(8.0, LanguageModelMetrics.Perplexity(loss), 12);
    }
}

/// <summary><see cref="SequenceLossTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuSequenceLossTests(IlgpuCpuAcceleratorFixture fixture) : SequenceLossTests
{
    protected override Device Target => fixture.Device;
}
