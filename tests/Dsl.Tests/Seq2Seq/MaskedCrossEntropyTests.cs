using Specs.Seq2Seq;
using Xunit;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// The seq2seq branch's masked cross-entropy against the runtime's <see cref="Loss.CrossEntropy"/> over only the counted
/// positions (an independent route to PyTorch's <c>ignore_index</c>): same mean loss, same gradient rows, zero rows at
/// padding.
/// </summary>
public class MaskedCrossEntropyTests
{
    [Fact]
    public void Padding_positions_count_for_nothing_and_the_rest_match_cross_entropy_over_them_alone()
    {
        const int n = 3, u = 4, v = 5, pad = 0;
        var rng = new Random(7);
        var logits = new float[n * u * v];
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)(rng.NextDouble() * 6 - 3);
        }
        // Rows end in padding after 4, 2 and 1 targets.
        long[] targets = [3, 1, 4, 2, 2, 4, pad, pad, 1, pad, pad, pad];
        var loss = new MaskedCrossEntropy(Device.Cpu, pad);
        var (value, counted, correct) = loss.Compute(Tensor.From(logits, n, u, v), Tensor.From(targets, n, u));

        var kept = Enumerable.Range(0, n * u).Where(r => targets[r] != pad).ToArray();
        var keptLogits = kept.SelectMany(r => logits.Skip(r * v).Take(v)).ToArray();
        var reference = Loss.CrossEntropy(Tensor.From(keptLogits, kept.Length, v), Tensor.From(kept.Select(r => targets[r]).ToArray(), kept.Length));
        Assert.Equal(7, counted);
        Assert.Equal(reference.Value, value, 5);
        var grad = loss.Gradient!.ToArray();
        var refGrad = reference.Gradient.ToArray();
        for (int r = 0; r < n * u; r++)
        {
            int k = Array.IndexOf(kept, r);
            for (int j = 0; j < v; j++)
            {
                float expected = k < 0 ? 0f : refGrad[k * v + j];
                Assert.True(Math.Abs(expected - grad[r * v + j]) < 1e-6, $"gradient [{r},{j}]: {grad[r * v + j]} against {expected}");
            }
        }
        int argmaxHits = kept.Count(r => Enumerable.Range(0, v).MaxBy(j => logits[r * v + j]) == targets[r]);
        Assert.Equal(argmaxHits, correct);
    }

    [Fact]
    public void A_target_outside_the_classes_is_refused_with_its_position()
    {
        var loss = new MaskedCrossEntropy(Device.Cpu, 0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Compute(Tensor.From(new float[6], 1, 2, 3), Tensor.From(new long[] { 1, 7 }, 1, 2)));
        Assert.Contains("target 7 at position 1", e.Message);
    }
}
