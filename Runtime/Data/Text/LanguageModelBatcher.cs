namespace Dsl.Data.Text;

/// <summary>
/// Cuts one token stream into N parallel rows and serves fixed-length windows of T steps with next-token targets,
/// as PyTorch's <c>word_language_model</c> example does (<c>batchify</c> then <c>get_batch</c>). With
/// <see cref="RandomOffset"/> each epoch starts at a seeded offset in [0, T) so window boundaries move between epochs;
/// tokens that do not fill a whole window are left out of that epoch.
/// </summary>
/// <remarks>
/// <b>A window is valid until the next one is produced</b>: its <see cref="LanguageModelBatch.Input"/> and
/// <see cref="LanguageModelBatch.Target"/> are fresh handles over the batcher's two reused tensors, stamped with
/// <see cref="BatchVersion"/>, which the next window overwrites. Reading an older window's tensors then throws
/// <see cref="StaleTensorException"/> (<c>batcher.Epoch(0).Take(2).ToList()</c> refuses the first); call <c>Clone()</c>
/// or <c>ToArray()</c> on them before moving on to keep them. <see cref="Epoch(int, bool)"/> without publishing hands
/// out the tensors themselves (the trainer's path, which allocates nothing per window). One enumeration at a time.
/// </remarks>
public sealed class LanguageModelBatcher : Training.IBatchSource<LanguageModelBatch>
{
    private readonly int[] _stream;
    private readonly long[] _hostInput;
    private readonly long[] _hostTarget;
    private readonly Tensor _input;
    private readonly Tensor _target;

    /// <param name="stream">The token ids, in order; not copied.</param>
    /// <param name="device">Where the windows are uploaded.</param>
    /// <param name="rows">Parallel rows (N).</param>
    /// <param name="length">Steps per window (T).</param>
    /// <param name="seed">Decides the epochs' offsets.</param>
    /// <param name="randomOffset">False starts every epoch at the stream's first token (evaluation).</param>
    public LanguageModelBatcher(int[] stream, Device device, int rows, int length, int seed = 0, bool randomOffset = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(device);
        if (rows < 1 || length < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"Rows and window length must be at least 1, got {rows} and {length}.");
        }
        // The worst offset (T - 1) must still leave one window per row.
        int worstOffset = randomOffset ? length - 1 : 0;
        if ((long)(stream.Length - 1 - worstOffset) / rows < length)
        {
            throw new ArgumentException($"A stream of {stream.Length} tokens is too short for {rows} rows of {length}-step windows (it needs at least {(long)rows * length + 1 + worstOffset}).", nameof(stream));
        }
        _stream = stream;
        Device = device;
        Rows = rows;
        Length = length;
        Seed = seed;
        RandomOffset = randomOffset;
        _hostInput = new long[rows * length];
        _hostTarget = new long[rows * length];
        _input = device.Allocate(DType.Int64, rows, length);
        _target = device.Allocate(DType.Int64, rows, length);
    }

    public Device Device { get; }
    public int Rows { get; }
    public int Length { get; }
    public int Seed { get; }
    public bool RandomOffset { get; }

    /// <summary>Rows of every window (N): all windows are full.</summary>
    int Training.IBatchSource<LanguageModelBatch>.BatchSize => Rows;

    /// <summary>Windows in <paramref name="epoch"/> (<see cref="WindowCount"/>).</summary>
    public int BatchesIn(int epoch) => WindowCount(epoch);

    /// <summary>Where <paramref name="epoch"/> starts in the stream: 0, or a seeded value in [0, T).</summary>
    public int Offset(int epoch)
        => RandomOffset ? (int)(CounterRandom.Bits(CounterRandom.Derive((ulong)(uint)Seed, (ulong)(uint)epoch), 0) % (ulong)Length) : 0;

    /// <summary>Tokens per row in <paramref name="epoch"/> (each row is a contiguous segment of the stream).</summary>
    public int RowLength(int epoch) => (_stream.Length - 1 - Offset(epoch)) / Rows;

    /// <summary>Windows in <paramref name="epoch"/>.</summary>
    public int WindowCount(int epoch) => RowLength(epoch) / Length;

    /// <summary>The stream position of input (<paramref name="row"/>, <paramref name="step"/>) of window <paramref name="window"/>; its target is the next position.</summary>
    public int Position(int epoch, int window, int row, int step) => Offset(epoch) + row * RowLength(epoch) + window * Length + step;

    /// <summary>The version of the window tensors: advanced by every window, which overwrites them.</summary>
    public BufferVersion BatchVersion { get; } = new("a window of a LanguageModelBatcher", "the batcher's next window");

    /// <summary>
    /// The windows of <paramref name="epoch"/>, in stream order. Each window's tensors are overwritten by the next one,
    /// and reading them after that throws (see the remarks on <see cref="LanguageModelBatcher"/>).
    /// </summary>
    public IEnumerable<LanguageModelBatch> Epoch(int epoch) => Epoch(epoch, publish: true);

    /// <summary>
    /// The windows of <paramref name="epoch"/>; without <paramref name="publish"/> they are the batcher's tensors
    /// themselves, not stamped handles, so a loop that never keeps a window past its step (the trainer's) allocates
    /// nothing, and nothing refuses a stale read.
    /// </summary>
    public IEnumerable<LanguageModelBatch> Epoch(int epoch, bool publish)
    {
        int offset = Offset(epoch);
        int rowLength = RowLength(epoch);
        int windows = rowLength / Length;
        for (int w = 0; w < windows; w++)
        {
            BatchVersion.Advance();
            for (int r = 0; r < Rows; r++)
            {
                int start = offset + r * rowLength + w * Length;
                for (int j = 0; j < Length; j++)
                {
                    _hostInput[r * Length + j] = _stream[start + j];
                    _hostTarget[r * Length + j] = _stream[start + j + 1];
                }
            }
            Device.Upload(_hostInput, _input);
            Device.Upload(_hostTarget, _target);
            yield return publish ? new LanguageModelBatch(_input.Stamped(BatchVersion), _target.Stamped(BatchVersion), w) : new LanguageModelBatch(_input, _target, w);
        }
    }
}
