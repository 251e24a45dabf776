using Dsl.Data.Text;

namespace Dsl.Data.Seq2Seq;

/// <summary>
/// One teacher-forcing batch: the padded source (<see cref="PaddedBatch"/>: tokens, mask, lengths), the decoder's
/// input <c>[N,U]</c> (<c>&lt;bos&gt; y1 .. yk</c>) and its targets <c>[N,U]</c> (<c>y1 .. yk &lt;eos&gt;</c>), both
/// int64 and padded with <see cref="Vocabulary.PadId"/> (the loss's ignore index), and the targets' mask.
/// Handles over reused buffers: valid until the next batch (then reading them throws <see cref="StaleTensorException"/>).
/// </summary>
public readonly record struct Seq2SeqBatch(PaddedBatch Source, Tensor DecoderInput, Tensor DecoderTarget, Tensor TargetMask)
{
    /// <summary>Rows (N).</summary>
    public int Size => Source.Size;
}
