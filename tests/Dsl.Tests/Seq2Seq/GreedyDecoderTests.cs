using Specs.Seq2Seq;
using Xunit;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// Greedy decoding against a scripted network whose arg-max at each position is known: answers stop at <c>&lt;eos&gt;</c>,
/// decoding stops once every row has finished, a row without <c>&lt;eos&gt;</c> stops at the cap, and each step feeds back
/// the previous arg-max.
/// </summary>
public class GreedyDecoderTests
{
    private const int Bos = 2, Eos = 3, V = 8;

    /// <summary>
    /// Logits [N,t,V] whose arg-max at position j of row r is script[r][j] (Eos past its end), checking that the prefix fed
    /// in is &lt;bos&gt; then the arg-max of every earlier position.
    /// </summary>
    private static Func<Tensor, Tensor, Tensor, Tensor> Scripted(int[][] script, List<string> seen)
        => (source, mask, prefix) =>
        {
            int n = prefix.Size(0), t = prefix.Size(1);
            var ids = prefix.ToInt64Array();
            var logits = new float[n * t * V];
            for (int r = 0; r < n; r++)
            {
                Assert.Equal(Bos, ids[r * t]);
                for (int j = 0; j < t; j++)
                {
                    int best = j < script[r].Length ? script[r][j] : Eos;
                    if (j + 1 < t && j < script[r].Length)
                    {
                        Assert.Equal(best, ids[r * t + j + 1]);
                    }
                    logits[(r * t + j) * V + best] = 1f;
                }
            }
            seen.Add($"{n}x{t}");
            return Tensor.From(logits, n, t, V);
        };

    [Fact]
    public void Answers_stop_at_eos_and_decoding_stops_when_every_row_has_finished()
    {
        var seen = new List<string>();
        int[][] script = [[5, 6, 7, Eos], [4, Eos], [Eos]];
        var decoder = new GreedyDecoder(Scripted(script, seen), Device.Cpu, Bos, Eos);
        var source = Tensor.From(new long[6], 3, 2);
        var (ids, finished) = decoder.Decode(source, Tensor.From(new float[6], 3, 2), maxLength: 20);
        Assert.Equal([5L, 6, 7], ids[0]);
        Assert.Equal([4L], ids[1]);
        Assert.Empty(ids[2]);
        Assert.All(finished, Assert.True);
        // The longest answer has 3 ids: its <eos> comes at the 4th step, and nothing runs after it.
        Assert.Equal(4, decoder.LastSteps);
        Assert.Equal(["3x1", "3x2", "3x3", "3x4"], seen);
    }

    [Fact]
    public void A_row_that_never_produces_eos_stops_at_the_cap_unfinished()
    {
        var seen = new List<string>();
        int[][] script = [[5, 5, 5, 5, 5, 5, 5, 5, 5, 5], [6, Eos]];
        var decoder = new GreedyDecoder(Scripted(script, seen), Device.Cpu, Bos, Eos);
        var (ids, finished) = decoder.Decode(Tensor.From(new long[2], 2, 1), Tensor.From(new float[2], 2, 1), maxLength: 4);
        Assert.Equal([5L, 5, 5, 5], ids[0]);
        Assert.False(finished[0]);
        Assert.Equal([6L], ids[1]);
        Assert.True(finished[1]);
        Assert.Equal(4, decoder.LastSteps);
    }
}
