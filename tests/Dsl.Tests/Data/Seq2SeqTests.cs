using System.Globalization;
using Dsl.Data.Seq2Seq;
using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class Seq2SeqTests
{
    public static TheoryData<string> Tasks => new() { "reverse", "sort", "dates" };

    private static ISeq2SeqTask Make(string name) => name switch
    {
        "reverse" => new ReverseDigitsTask(),
        "sort" => new SortDigitsTask(),
        "dates" => new DateRewriteTask(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>The target by a route independent of the task's code.</summary>
    private static string Reference(string task, string source) => task switch
    {
        "reverse" => new string(source.Reverse().ToArray()),
        "sort" => new string(source.Order().ToArray()),
        "dates" => DateTime.ParseExact(source, ["MMMM d, yyyy", "d MMMM yyyy", "MMM d, yyyy", "d MMM yyyy", "dd/MM/yyyy", "dddd, MMMM d, yyyy"], CultureInfo.InvariantCulture, DateTimeStyles.None).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => throw new ArgumentException(task),
    };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Generation_is_deterministic_and_targets_are_correct(string name)
    {
        var data = Seq2SeqData.Generate(Make(name), 500, 100, 200, seed: 9);
        var again = Seq2SeqData.Generate(Make(name), 500, 100, 200, seed: 9);
        Assert.Equal(data.Train, again.Train);
        Assert.Equal(data.Test, again.Test);
        Assert.NotEqual(data.Train, Seq2SeqData.Generate(Make(name), 500, 100, 200, seed: 10).Train);
        foreach (var e in data.Train.Concat(data.Valid).Concat(data.Test))
        {
            Assert.Equal(Reference(name, e.Source), e.Target);
            Assert.Equal(e.Target, data.Task.Solve(e.Source));
            Assert.All(e.Source, c => Assert.Contains(c, data.Task.SourceAlphabet));
            Assert.All(e.Target, c => Assert.Contains(c, data.Task.TargetAlphabet));
        }
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Held_out_sets_are_unseen_and_longer_than_most_training_sources(string name)
    {
        var data = Seq2SeqData.Generate(Make(name), 2000, 300, 600, seed: 1);
        var trainSources = data.Train.Select(e => e.Source).ToHashSet();
        Assert.DoesNotContain(data.Test, e => trainSources.Contains(e.Source));
        Assert.DoesNotContain(data.Valid, e => trainSources.Contains(e.Source));
        Assert.Equal(data.Test.Count, data.Test.Select(e => e.Source).Distinct().Count());
        Assert.DoesNotContain(data.Valid, e => data.Test.Any(t => t.Source == e.Source));
        // Every long source is longer than every short one.
        var all = data.Train.Concat(data.Test).ToList();
        Assert.True(all.Where(e => e.IsLong).Min(e => e.Source.Length) > all.Where(e => !e.IsLong).Max(e => e.Source.Length));
        // Long: about 10% of training (binomial, n = 2000: sd 0.7%), about half of test (n = 600: sd 2%).
        Assert.InRange(data.Train.Count(e => e.IsLong) / 2000.0, 0.07, 0.13);
        Assert.InRange(data.Test.Count(e => e.IsLong) / 600.0, 0.42, 0.58);
    }

    [Fact]
    public void Vocabularies_are_the_alphabets_and_targets_are_framed()
    {
        var data = Seq2SeqData.Generate(new ReverseDigitsTask(), 10, 0, 0);
        Assert.Equal(["<pad>", "<unk>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], data.SourceVocabulary.Tokens);
        Assert.Equal(14, data.TargetVocabulary.Count);
        var example = data.Train[0];
        int[] framed = data.TargetIds([example])[0];
        Assert.Equal(data.TargetVocabulary.BosId, framed[0]);
        Assert.Equal(data.TargetVocabulary.EosId, framed[^1]);
        Assert.Equal(example.Target, data.DecodeTarget(framed.Select(i => (long)i).ToArray()));
        Assert.Equal(example.Source.Length, data.SourceIds([example])[0].Length);
    }

    [Fact]
    public void Batches_pair_each_source_with_its_shifted_target()
    {
        var data = Seq2SeqData.Generate(new SortDigitsTask(), 100, 0, 0, seed: 2);
        var sources = data.SourceIds(data.Train);
        var targets = data.TargetIds(data.Train);
        var batcher = new Seq2SeqBatcher(sources, targets, Device.Cpu, batchSize: 8, seed: 3);
        int rows = 0;
        foreach (var batch in batcher.Epoch(0))
        {
            long[] input = batch.DecoderInput.ToInt64Array(), target = batch.DecoderTarget.ToInt64Array();
            float[] mask = batch.TargetMask.ToArray();
            int u = batch.DecoderInput.Size(1);
            for (int r = 0; r < batch.Size; r++)
            {
                int[] framed = targets[batch.Source.Samples.Span[r]];
                for (int j = 0; j < u; j++)
                {
                    bool inside = j < framed.Length - 1;
                    Assert.Equal(inside ? framed[j] : 0, input[r * u + j]);
                    Assert.Equal(inside ? framed[j + 1] : 0, target[r * u + j]);
                    Assert.Equal(inside ? 1f : 0f, mask[r * u + j]);
                }
            }
            rows += batch.Size;
        }
        Assert.Equal(100, rows);
    }

    [Fact]
    public void A_task_without_enough_unseen_sources_says_so()
    {
        // Ten one-digit sources exist; about 30 of 60 distinct test sources must be short.
        var e = Assert.Throws<InvalidOperationException>(() => Seq2SeqData.Generate(new ReverseDigitsTask(1, 1, 2), 10, 0, 60));
        Assert.Contains("ran out of unseen", e.Message);
    }

    [Fact]
    public void Exact_match_counts_whole_strings_by_length_bucket()
    {
        Seq2SeqExample[] examples = [new("12", "21", false), new("123", "321", false), new("12345", "54321", true), new("123456", "654321", true)];
        var report = ExactMatch.Score(examples, ["21", "32", "54321", "654322"], bucketWidth: 4);
        Assert.Equal((4, 2), (report.Count, report.Correct));
        Assert.Equal(0.5, report.Accuracy);
        Assert.Equal([new ExactMatchBucket(1, 4, 2, 1), new ExactMatchBucket(5, 8, 2, 1)], report.Buckets);
        Assert.Contains("all", report.ToString());
    }
}
