using Dsl;

namespace Specs.Seq2Seq;

/// <summary>
/// Greedy decoding of a teacher-forced encoder-decoder: start every row with <c>&lt;bos&gt;</c>, run the network on the
/// decoded prefix, append each row's arg-max at the last position, and stop once every row has produced
/// <c>&lt;eos&gt;</c> or the prefix reaches the length cap.
/// </summary>
/// <remarks>
/// A generated network runs whole sequences, so step t runs the decoder over the t-token prefix again: the outputs at
/// earlier positions are unchanged (the decoder is causal and each position attends with its own state), and the cost is
/// O(U^2) decoder steps instead of O(U), which for answers of tens of characters is well below the cost of training.
/// </remarks>
public sealed class GreedyDecoder
{
    private readonly Func<Tensor, Tensor, Tensor, Tensor> _forward;
    private readonly SymbolicSlot _prefix;

    /// <param name="forward">The network: (source tokens [N,S], source mask [N,S], decoder input [N,U]) -> logits [N,U,V].</param>
    /// <param name="device">Where the network runs.</param>
    /// <param name="bosId">The id every decoder input starts with.</param>
    /// <param name="eosId">The id that ends a row's answer.</param>
    public GreedyDecoder(Func<Tensor, Tensor, Tensor, Tensor> forward, Device device, int bosId, int eosId)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(device);
        _forward = forward;
        _prefix = new SymbolicSlot(device, DType.Int64);
        BosId = bosId;
        EosId = eosId;
    }

    public int BosId { get; }
    public int EosId { get; }

    /// <summary>Network runs of the last <see cref="Decode"/>: one per decoded position (for tests and timing).</summary>
    public int LastSteps { get; private set; }

    /// <summary>
    /// Each row's answer ids, without <c>&lt;bos&gt;</c> and <c>&lt;eos&gt;</c>. A row that reaches
    /// <paramref name="maxLength"/> ids without <c>&lt;eos&gt;</c> returns those ids and is marked in <c>Finished</c>.
    /// </summary>
    public (long[][] Ids, bool[] Finished) Decode(Tensor sourceTokens, Tensor sourceMask, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(sourceTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        int n = sourceTokens.Size(0);
        var device = sourceTokens.Device;
        var answers = new List<long>[n];
        var finished = new bool[n];
        for (int r = 0; r < n; r++)
        {
            answers[r] = [];
        }
        // The prefix [N, t] on the host, row-major for the current t: rebuilt at each step from the answers.
        var host = new long[n * (maxLength + 1)];
        float[] logits = [];
        int remaining = n;
        LastSteps = 0;
        for (int t = 1; t <= maxLength && remaining > 0; t++)
        {
            for (int r = 0; r < n; r++)
            {
                host[r * t] = BosId;
                for (int j = 1; j < t; j++)
                {
                    // A finished row keeps feeding <eos>: what it reads no longer matters, only its answer does.
                    host[r * t + j] = j - 1 < answers[r].Count ? answers[r][j - 1] : EosId;
                }
            }
            var prefix = _prefix.Rows(n, t);
            device.Upload(host.AsSpan(0, n * t), prefix);
            var output = _forward(sourceTokens, sourceMask, prefix);
            LastSteps++;
            if (output.Rank != 3 || output.Size(0) != n || output.Size(1) != t)
            {
                throw new InvalidOperationException($"The network returned {Tensor.FormatShape(output.Shape)} for a decoder input [{n},{t}]; expected [{n},{t},V].");
            }
            int v = output.Size(2);
            if (logits.Length < n * t * v)
            {
                logits = new float[n * t * v];
            }
            device.Download(output, logits.AsSpan(0, n * t * v));
            for (int r = 0; r < n; r++)
            {
                if (finished[r])
                {
                    continue;
                }
                var last = logits.AsSpan((r * t + t - 1) * v, v);
                int best = 0;
                for (int j = 1; j < v; j++)
                {
                    if (last[j] > last[best])
                    {
                        best = j;
                    }
                }
                if (best == EosId)
                {
                    finished[r] = true;
                    remaining--;
                }
                else
                {
                    answers[r].Add(best);
                }
            }
        }
        return (answers.Select(a => a.ToArray()).ToArray(), finished);
    }
}
