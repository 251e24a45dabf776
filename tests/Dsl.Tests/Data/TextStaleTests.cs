using Dsl.Data.Seq2Seq;
using Dsl.Data.Text;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Data;

/// <summary>
/// The text batchers reuse their buffers but refuse a stale read: a batch kept past the next one throws, naming the
/// batcher and <c>Clone()</c>; a clone taken in time keeps the batch's values; the current batch reads fine.
/// </summary>
public class TextStaleTests
{
    /// <summary>Sequence i is [i+1, i+2, ...] of length 1 + i % 7, so every batch's ids differ.</summary>
    private static int[][] Sequences(int count) => Enumerable.Range(0, count).Select(i => Enumerable.Range(i + 1, 1 + i % 7).ToArray()).ToArray();

    private static void AssertStale(Func<object> read, string batcher)
    {
        var e = Assert.Throws<StaleTensorException>(read);
        Assert.Contains(batcher, e.Message);
        Assert.Contains("Clone()", e.Message);
    }

    [Fact]
    public void A_bucket_batch_kept_past_the_next_is_refused_and_a_clone_survives()
    {
        var batcher = new BucketBatcher(Sequences(64), Enumerable.Range(0, 64).Select(i => (long)i).ToArray(), Device.Cpu, 8, seed: 1, bucket: false);
        var expected = batcher.Epoch(0).Take(2).Select(b => (Tokens: b.Tokens.ToInt64Array(), Labels: b.Labels!.ToInt64Array())).ToList();
        Tensor? kept = null;
        var batches = batcher.Epoch(0).Take(2).Select((b, i) =>
        {
            if (i == 0)
            {
                kept = b.Tokens.Clone();
            }
            return b;
        }).ToList();

        AssertStale(() => batches[0].Tokens.ToInt64Array(), "BucketBatcher");
        AssertStale(() => batches[0].Mask.ToArray(), "BucketBatcher");
        AssertStale(() => batches[0].Labels!.Clone(), "BucketBatcher");
        Assert.False(batches[0].Tokens.IsCurrent);
        Assert.Equal(expected[0].Tokens, kept!.ToInt64Array());
        Assert.NotEqual(expected[0].Tokens, expected[1].Tokens);
        Assert.True(batches[1].Tokens.IsCurrent);
        Assert.Equal(expected[1].Tokens, batches[1].Tokens.ToInt64Array());
        Assert.Equal(expected[1].Labels, batches[1].Labels!.ToInt64Array());
    }

    [Fact]
    public void A_language_model_window_kept_past_the_next_is_refused_and_a_clone_survives()
    {
        var stream = Enumerable.Range(0, 2000).Select(i => i % 97).ToArray();
        var batcher = new LanguageModelBatcher(stream, Device.Cpu, rows: 4, length: 10, randomOffset: false);
        var expected = batcher.Epoch(0).Take(2).Select(w => w.Input.ToInt64Array()).ToList();
        var windows = batcher.Epoch(0).Take(2).ToList();
        AssertStale(() => windows[0].Input.ToInt64Array(), "LanguageModelBatcher");
        AssertStale(() => windows[0].Target.Clone(), "LanguageModelBatcher");
        Assert.Equal(expected[1], windows[1].Input.ToInt64Array());

        using var live = batcher.Epoch(0).GetEnumerator();
        Assert.True(live.MoveNext());
        var copy = live.Current.Input.Clone();
        Assert.True(live.MoveNext());
        Assert.Equal(expected[0], copy.ToInt64Array());
        Assert.NotEqual(expected[0], expected[1]);
    }

    [Fact]
    public void A_seq2seq_batch_kept_past_the_next_is_refused_and_a_clone_survives()
    {
        var sources = Sequences(40);
        var targets = Enumerable.Range(0, 40).Select(i => new[] { 1, 5 + i, 6 + i, 2 }).ToArray();
        var batcher = new Seq2SeqBatcher(sources, targets, Device.Cpu, batchSize: 8, seed: 2);
        var expected = batcher.Epoch(0).Take(2).Select(b => b.DecoderInput.ToInt64Array()).ToList();
        Tensor? kept = null;
        var batches = batcher.Epoch(0).Take(2).Select((b, i) =>
        {
            if (i == 0)
            {
                kept = b.DecoderInput.Clone();
            }
            return b;
        }).ToList();
        AssertStale(() => batches[0].DecoderInput.ToInt64Array(), "Seq2SeqBatcher");
        AssertStale(() => batches[0].DecoderTarget.ToInt64Array(), "Seq2SeqBatcher");
        AssertStale(() => batches[0].TargetMask.ToArray(), "Seq2SeqBatcher");
        // The source's tensors are the batcher's too, stamped with the same version.
        AssertStale(() => batches[0].Source.Tokens.ToInt64Array(), "Seq2SeqBatcher");
        AssertStale(() => batches[0].Source.Mask.ToArray(), "Seq2SeqBatcher");
        Assert.Equal(expected[0], kept!.ToInt64Array());
        Assert.NotEqual(expected[0], expected[1]);
        Assert.Equal(expected[1], batches[1].DecoderInput.ToInt64Array());
        Assert.True(batches[1].Source.Tokens.IsCurrent);
    }

    [Fact]
    public void The_trainers_path_hands_out_the_batchers_own_tensors()
    {
        var batcher = new BucketBatcher(Sequences(64), Enumerable.Range(0, 64).Select(i => (long)i).ToArray(), Device.Cpu, 8, seed: 1, bucket: false);
        IBatchSource<PaddedBatch> source = batcher;
        // Through the interface, as the trainer reads it: the unstamped tensors, never refused (and never allocated).
        var raw = source.Epoch(0, publish: false).Take(2).ToList();
        Assert.True(raw[0].Tokens.IsCurrent);
        Assert.Same(raw[0].Tokens, raw[1].Tokens);
        var published = source.Epoch(0).Take(2).ToList();
        Assert.False(published[0].Tokens.IsCurrent);
        Assert.NotSame(published[0].Tokens, published[1].Tokens);
    }
}
