using Dsl.Data.Text;
using Specs.Text;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// <see cref="CharSampler"/> against a stand-in model whose scores are known: temperature sharpens and flattens the
/// distribution as softmax(z / T) says, the special ids are never drawn, the context is bounded; and
/// <see cref="WindowBudget"/> serves a fresh seeded subset of a language model's windows each epoch.
/// </summary>
public sealed class CharSamplerTests
{
    private static readonly Vocabulary Alphabet = Vocabulary.FromTokens(["a", "b"], CharacterTokenizer.Instance.Name);

    /// <summary>A fake network: each step scores a 0, b ln 3 (so P(b) = 3/4 at temperature 1), pad and unk highest of all.</summary>
    private static Func<Tensor, Tensor> Scores(List<int> contextLengths) => x =>
    {
        int t = x.Size(1);
        contextLengths.Add(t);
        var scores = new float[t * 4];
        for (int s = 0; s < t; s++)
        {
            scores[s * 4 + 0] = 50f; // <pad>
            scores[s * 4 + 1] = 50f; // <unk>
            scores[s * 4 + 2] = 0f;
            scores[s * 4 + 3] = (float)Math.Log(3);
        }
        return Tensor.From(scores, 1, t, 4);
    };

    [Theory]
    [InlineData(1.0, 0.75)]
    [InlineData(0.5, 0.9)]      // 9 / (1 + 9)
    [InlineData(1e6, 0.5)]      // flat
    public void Temperature_divides_the_scores_before_the_softmax(double temperature, double expectedB)
    {
        var lengths = new List<int>();
        var sampler = new CharSampler(new PairNet(Device.Cpu), Scores(lengths), Alphabet, context: 5);
        string text = sampler.Sample("a", 4000, temperature, seed: 1);
        Assert.Equal(4000, text.Length);
        Assert.All(text, c => Assert.True(c is 'a' or 'b', $"drew '{c}'"));
        double b = text.Count(c => c == 'b') / 4000.0;
        Assert.InRange(b, expectedB - 0.03, expectedB + 0.03);
        Assert.Equal(5, lengths.Max()); // the context never grows past the window
        Assert.Equal(1, lengths[0]);
    }

    [Fact]
    public void The_same_seed_gives_the_same_text()
    {
        var a = new CharSampler(new PairNet(Device.Cpu), Scores([]), Alphabet, 3).Sample("ab", 50, 0.8, 7);
        var b = new CharSampler(new PairNet(Device.Cpu), Scores([]), Alphabet, 3).Sample("ab", 50, 0.8, 7);
        Assert.Equal(a, b);
    }

    [Fact]
    public void A_window_budget_serves_a_fresh_subset_in_stream_order_each_epoch()
    {
        int[] stream = Enumerable.Range(0, 4001).Select(i => i % 7).ToArray();
        var batcher = new LanguageModelBatcher(stream, Device.Cpu, rows: 4, length: 10, seed: 3);
        var budget = new WindowBudget(batcher, windows: 12, seed: 5);
        Assert.Equal(12, budget.BatchesIn(0));
        var first = budget.Epoch(0).Select(w => (w.Index, Start: w.Input.ToInt64Array()[0])).ToList();
        Assert.Equal(Enumerable.Range(0, 12), first.Select(w => w.Index));
        var starts0 = budget.Epoch(0).Select(w => w.Input.ToInt64Array().Sum()).ToList();
        var starts1 = budget.Epoch(1).Select(w => w.Input.ToInt64Array().Sum()).ToList();
        Assert.Equal(starts0, budget.Epoch(0).Select(w => w.Input.ToInt64Array().Sum()).ToList()); // seeded
        Assert.NotEqual(starts0, starts1);
        Assert.Equal(batcher.WindowCount(0), new WindowBudget(batcher, 100_000, 5).BatchesIn(0));
    }
}
