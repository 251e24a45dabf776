using Dsl.Data;
using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class FortunesCorpusTests
{
    /// <summary>A folder with topics a, b, c of 40, 25 and 7 distinct quotes (plus the index files a real folder has).</summary>
    private static TempFolder Inline()
    {
        var folder = new TempFolder();
        foreach (var (topic, count) in new[] { ("a", 40), ("b", 25), ("c", 7) })
        {
            File.WriteAllText(folder.File(topic), string.Concat(Enumerable.Range(0, count).Select(i => $"{topic} quote {i}\n%\n")));
            File.WriteAllBytes(folder.File(topic + ".dat"), [0, 0, 0, 2]);
        }
        return folder;
    }

    [Fact]
    public void Topics_are_the_plain_files_without_index_files()
    {
        using var folder = Inline();
        Directory.CreateDirectory(Path.Combine(folder.Path, "off"));
        Assert.Equal(["a", "b", "c"], FortunesCorpus.TopicsIn(folder.Path));
    }

    [Fact]
    public void Duplicates_across_topics_are_skipped_and_named()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("x"), "same\n%\nonly x\n%\n");
        File.WriteAllText(folder.File("y"), "only y\n%\nsame\n%\n");
        var corpus = FortunesCorpus.Load(folder.Path, ["x", "y"]);
        Assert.Equal(["same", "only x", "only y"], corpus.Quotes.Select(q => q.Text));
        var skipped = Assert.Single(corpus.Skipped);
        Assert.Equal(("y", 3), (skipped.Topic, skipped.Line));
        Assert.Equal("duplicate of the quote at x:1", skipped.Reason);
    }

    [Fact]
    public void A_missing_topic_names_the_packages()
    {
        using var folder = Inline();
        var e = Assert.Throws<FileNotFoundException>(() => FortunesCorpus.Load(folder.Path, ["a", "politics"]));
        Assert.Contains("politics", e.Message);
        Assert.Contains("fortunes fortunes-min", e.Message);
    }

    [Fact]
    public void Locate_prefers_the_option_then_the_system_folder_then_the_slice()
    {
        using var system = Inline();
        using var bundled = Inline();
        using var empty = new TempFolder();
        string[] topics = ["a", "b"];
        var option = FortunesCorpus.Locate(bundled.Path, topics, system.Path, empty.Path);
        Assert.Equal((DataSourceKind.Option, bundled.Path), (option.Kind, option.Folder));
        Assert.Equal(DataSourceKind.System, FortunesCorpus.Locate(null, topics, system.Path, bundled.Path).Kind);
        var fallback = FortunesCorpus.Locate(null, topics, empty.Path, bundled.Path);
        Assert.Equal((DataSourceKind.Bundled, bundled.Path), (fallback.Kind, fallback.Folder));
        Assert.Contains("slice bundled with the app", fallback.Describe());

        var none = Assert.Throws<FileNotFoundException>(() => FortunesCorpus.Locate(null, topics, empty.Path, empty.Path));
        Assert.Contains("apt-get install fortunes fortunes-min", none.Message);
        var lacking = Assert.Throws<FileNotFoundException>(() => FortunesCorpus.Locate(system.Path, ["a", "zzz"], empty.Path, empty.Path));
        Assert.Contains("zzz", lacking.Message);
        Assert.Throws<DirectoryNotFoundException>(() => FortunesCorpus.Locate(Path.Combine(empty.Path, "nope"), topics, system.Path, bundled.Path));
    }

    [Fact]
    public void The_split_is_stratified_disjoint_complete_and_fixed_by_the_seed()
    {
        using var folder = Inline();
        var corpus = FortunesCorpus.Load(folder.Path, ["a", "b", "c"]);
        var split = corpus.Split(seed: 3, validFraction: 0.2, testFraction: 0.1);
        // Per topic: test round(n/10), valid round(n/5), the rest train.
        foreach (var (topic, train, valid, test) in new[] { ("a", 28, 8, 4), ("b", 17, 5, 3), ("c", 5, 1, 1) })
        {
            Assert.Equal(train, split.Train.Count(q => q.Topic == topic));
            Assert.Equal(valid, split.Valid.Count(q => q.Topic == topic));
            Assert.Equal(test, split.Test.Count(q => q.Topic == topic));
        }
        var all = split.Train.Concat(split.Valid).Concat(split.Test).Select(q => q.Text).ToList();
        Assert.Equal(corpus.Quotes.Select(q => q.Text).Order(), all.Order());

        var again = FortunesCorpus.Load(folder.Path, ["a", "b", "c"]).Split(seed: 3, validFraction: 0.2, testFraction: 0.1);
        Assert.Equal(split.Test.Select(q => q.Text), again.Test.Select(q => q.Text));
        Assert.Equal(split.Valid.Select(q => q.Text), again.Valid.Select(q => q.Text));
        var other = corpus.Split(seed: 4, validFraction: 0.2, testFraction: 0.1);
        Assert.NotEqual(split.Test.Select(q => q.Text), other.Test.Select(q => q.Text));
        Assert.Equal([0L, 1L, 2L], split.Labels(split.Test).Distinct().Order());
    }

    [Fact]
    public void The_character_stream_is_each_quote_followed_by_a_separator_line()
    {
        var quotes = new[] { new FortuneQuote("one\ntwo", "t", 1), new FortuneQuote("three", "t", 4) };
        Assert.Equal("one\ntwo\n%\nthree\n%\n", FortunesCorpus.CharacterStream(quotes));
    }

    [Fact]
    public void The_repo_slice_holds_300_quotes_of_each_classification_topic()
    {
        var location = FortunesCorpus.Locate(FortunesSlice.Path);
        var corpus = FortunesCorpus.Load(location.Folder, FortunesCorpus.ClassificationTopics);
        Assert.Empty(corpus.Skipped);
        Assert.All(FortunesCorpus.ClassificationTopics, t => Assert.Equal(300, corpus.Count(t)));
        var split = corpus.Split();
        Assert.Equal((240 * 8, 30 * 8, 30 * 8), (split.Train.Count, split.Valid.Count, split.Test.Count));
    }
}
