using Dsl.Data.Text;

namespace Dsl.Data.Seq2Seq;

/// <summary>
/// Teacher-forcing batches of (source, target) pairs, bucketed by source length through a
/// <see cref="BucketBatcher"/>, with each row's target gathered beside its source. Targets are given framed as
/// <c>&lt;bos&gt; y &lt;eos&gt;</c> (<see cref="Seq2SeqData.TargetIds"/>); the decoder reads all but the last id and
/// predicts all but the first.
/// </summary>
/// <remarks>
/// <b>A batch is valid until the next one is produced</b>: its tensors (the source's tokens and mask, the decoder's
/// input, target and mask) are fresh handles over reused tensors, stamped with <see cref="BatchVersion"/>, which the
/// next batch overwrites. Reading an older batch's tensors then throws <see cref="StaleTensorException"/>
/// (<c>batcher.Epoch(0).Take(2).ToList()</c> refuses the first); call <c>Clone()</c> or <c>ToArray()</c> on them before
/// moving on to keep them (the source's lengths and samples are reused arrays too). <see cref="Epoch(int, bool)"/>
/// without publishing hands out the tensors themselves (a training loop's path, which allocates nothing per batch).
/// One enumeration at a time.
/// </remarks>
public sealed class Seq2SeqBatcher
{
    private readonly BucketBatcher _sources;
    private readonly IReadOnlyList<int[]> _targets;
    private readonly long[] _hostInput;
    private readonly long[] _hostTarget;
    private readonly float[] _hostMask;
    private readonly Tensor _input;
    private readonly Tensor _target;
    private readonly Tensor _mask;
    private readonly Dictionary<(int Rows, int Length), (Tensor Input, Tensor Target, Tensor Mask)> _views = [];

    public Seq2SeqBatcher(IReadOnlyList<int[]> sources, IReadOnlyList<int[]> framedTargets, Device device, int batchSize, int seed = 0, bool shuffle = true, bool bucket = true)
    {
        ArgumentNullException.ThrowIfNull(framedTargets);
        _sources = new BucketBatcher(sources, labels: null, device, batchSize, seed, shuffle, bucket);
        if (framedTargets.Count != sources.Count)
        {
            throw new ArgumentException($"{framedTargets.Count} targets for {sources.Count} sources.", nameof(framedTargets));
        }
        int longest = 0;
        for (int i = 0; i < framedTargets.Count; i++)
        {
            int length = framedTargets[i]?.Length ?? throw new ArgumentException($"Target {i} is null.", nameof(framedTargets));
            if (length < 2)
            {
                throw new ArgumentException($"Target {i} has {length} ids; a framed target holds at least <bos> and <eos>.", nameof(framedTargets));
            }
            longest = Math.Max(longest, length - 1);
        }
        _targets = framedTargets;
        MaxTargetLength = longest;
        int rows = Math.Min(batchSize, sources.Count);
        _hostInput = new long[rows * longest];
        _hostTarget = new long[rows * longest];
        _hostMask = new float[rows * longest];
        _input = device.Allocate(DType.Int64, rows * longest);
        _target = device.Allocate(DType.Int64, rows * longest);
        _mask = device.Allocate(DType.Float32, rows * longest);
    }

    /// <summary>The longest decoder sequence (U): a framed target's length minus one.</summary>
    public int MaxTargetLength { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => _sources.BatchCount;

    /// <summary>The version of the batch tensors: advanced by every batch, which overwrites them (its source's too).</summary>
    public BufferVersion BatchVersion { get; } = new("a batch of a Seq2SeqBatcher", "the batcher's next batch");

    /// <summary>
    /// The batches of <paramref name="epoch"/>. Each batch's tensors are overwritten by the next one, and reading them
    /// after that throws (see the remarks on <see cref="Seq2SeqBatcher"/>).
    /// </summary>
    public IEnumerable<Seq2SeqBatch> Epoch(int epoch) => Epoch(epoch, publish: true);

    /// <summary>
    /// The batches of <paramref name="epoch"/>; without <paramref name="publish"/> they are the batcher's tensors
    /// themselves, not stamped handles, so a loop that never keeps a batch past its step allocates nothing, and nothing
    /// refuses a stale read.
    /// </summary>
    public IEnumerable<Seq2SeqBatch> Epoch(int epoch, bool publish)
    {
        // The source batcher's own tensors: this batcher stamps them with its own version, one owner per batch.
        foreach (var source in _sources.Epoch(epoch, publish: false))
        {
            yield return Load(source, publish);
        }
    }

    private Seq2SeqBatch Load(PaddedBatch source, bool publish)
    {
        BatchVersion.Advance();
        var samples = source.Samples.Span;
        int n = samples.Length;
        int u = 0;
        foreach (int i in samples)
        {
            u = Math.Max(u, _targets[i].Length - 1);
        }
        for (int r = 0; r < n; r++)
        {
            int[] framed = _targets[samples[r]];
            int k = framed.Length - 1;
            var input = _hostInput.AsSpan(r * u, u);
            var target = _hostTarget.AsSpan(r * u, u);
            var mask = _hostMask.AsSpan(r * u, u);
            for (int j = 0; j < k; j++)
            {
                input[j] = framed[j];
                target[j] = framed[j + 1];
            }
            input[k..].Fill(Vocabulary.PadId);
            target[k..].Fill(Vocabulary.PadId);
            mask[..k].Fill(1f);
            mask[k..].Clear();
        }
        if (!_views.TryGetValue((n, u), out var view))
        {
            view = (_input.Narrow(0, n * u).View(n, u), _target.Narrow(0, n * u).View(n, u), _mask.Narrow(0, n * u).View(n, u));
            _views.Add((n, u), view);
        }
        var device = _sources.Device;
        device.Upload(_hostInput.AsSpan(0, n * u), view.Input);
        device.Upload(_hostTarget.AsSpan(0, n * u), view.Target);
        device.Upload(_hostMask.AsSpan(0, n * u), view.Mask);
        if (!publish)
        {
            return new Seq2SeqBatch(source, view.Input, view.Target, view.Mask);
        }
        var stamped = source with { Tokens = source.Tokens.Stamped(BatchVersion), Mask = source.Mask.Stamped(BatchVersion) };
        return new Seq2SeqBatch(stamped, view.Input.Stamped(BatchVersion), view.Target.Stamped(BatchVersion), view.Mask.Stamped(BatchVersion));
    }
}
