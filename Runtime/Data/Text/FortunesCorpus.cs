namespace Dsl.Data.Text;

/// <summary>
/// Debian's fortunes corpus (packages <c>fortunes</c> and <c>fortunes-min</c>, BSD <c>fortune</c>'s data files in
/// <c>/usr/share/games/fortunes/&lt;topic&gt;</c>): quotes labelled by topic, for topic classification, and their
/// text as one character stream, for language models.
/// </summary>
public sealed class FortunesCorpus
{
    /// <summary>The system folder of Debian's fortunes packages.</summary>
    public const string SystemFolder = "/usr/share/games/fortunes";

    /// <summary>The Debian packages that install the corpus, for error messages.</summary>
    public const string Packages = "fortunes fortunes-min";

    /// <summary>
    /// The topics used for classification: eight files of the <c>fortunes</c> package with at least 465 quotes
    /// each (kept by <see cref="Load"/> from Debian's 1:1.99.1-7.3: art 465, computers 1051, definitions 1203,
    /// men-women 581, politics 703, science 624, songs-poems 716, work 629; 5,972 in all, 7 duplicates skipped),
    /// chosen for subjects a reader can tell apart.
    /// </summary>
    public static IReadOnlyList<string> ClassificationTopics { get; } =
        ["art", "computers", "definitions", "men-women", "politics", "science", "songs-poems", "work"];

    /// <summary>The separator written between quotes in <see cref="CharacterStream"/>: the files' own <c>%</c> line.</summary>
    public const string StreamSeparator = "\n%\n";

    private FortunesCorpus(string folder, IReadOnlyList<string> topics, IReadOnlyList<FortuneQuote> quotes, IReadOnlyList<SkippedQuote> skipped)
    {
        Folder = folder;
        Topics = topics;
        Quotes = quotes;
        Skipped = skipped;
    }

    /// <summary>Where the files were read.</summary>
    public string Folder { get; }

    /// <summary>The topics read, in the order asked for.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>Every quote kept, topic by topic in file order.</summary>
    public IReadOnlyList<FortuneQuote> Quotes { get; }

    /// <summary>Quotes left out (empty, or an exact duplicate of an earlier quote), each with its reason.</summary>
    public IReadOnlyList<SkippedQuote> Skipped { get; }

    /// <summary>Quotes kept for <paramref name="topic"/>.</summary>
    public int Count(string topic) => Quotes.Count(q => q.Topic == topic);

    /// <summary>
    /// Reads <paramref name="topics"/> from <paramref name="folder"/>. A quote identical to an earlier one (in any
    /// topic read) is skipped, so no text lands in two splits.
    /// </summary>
    /// <exception cref="FileNotFoundException">A topic file is missing; the message names the packages.</exception>
    /// <exception cref="FortunesFormatException">A file is not a fortunes file.</exception>
    public static FortunesCorpus Load(string folder, IReadOnlyList<string> topics)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(topics);
        if (topics.Count == 0)
        {
            throw new ArgumentException("At least one topic is needed.", nameof(topics));
        }
        if (topics.Distinct(StringComparer.Ordinal).Count() != topics.Count)
        {
            throw new ArgumentException($"Topics must be distinct: {string.Join(", ", topics)}.", nameof(topics));
        }
        var missing = topics.Where(t => !File.Exists(Path.Combine(folder, t))).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException(
                $"{folder}: no fortunes file for {string.Join(", ", missing)}. Install Debian's packages ({Packages}: apt-get install {Packages}) or name a folder of fortunes files.");
        }
        var quotes = new List<FortuneQuote>();
        var skipped = new List<SkippedQuote>();
        var seen = new Dictionary<string, FortuneQuote>(StringComparer.Ordinal);
        foreach (string topic in topics)
        {
            var (fileQuotes, fileSkipped) = FortuneFile.Read(Path.Combine(folder, topic));
            skipped.AddRange(fileSkipped);
            foreach (var quote in fileQuotes)
            {
                if (seen.TryGetValue(quote.Text, out var first))
                {
                    skipped.Add(new SkippedQuote(topic, quote.Line, $"duplicate of the quote at {first.Topic}:{first.Line}"));
                    continue;
                }
                seen.Add(quote.Text, quote);
                quotes.Add(quote);
            }
        }
        return new FortunesCorpus(folder, topics.ToArray(), quotes, skipped);
    }

    /// <summary>The topic files in <paramref name="folder"/>: plain files without an extension (so not the
    /// <c>.dat</c> indexes or <c>.u8</c> links), sorted; the <c>off/</c> folder of offensive ones is not entered.</summary>
    public static IReadOnlyList<string> TopicsIn(string folder)
        => Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>()
                .Where(n => !n.Contains('.', StringComparison.Ordinal) && !n.StartsWith('.'))
                .Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>
    /// Finds the corpus: <paramref name="dataOption"/> when given (it must hold every topic asked for: an explicit
    /// folder wins), else the system folder of the Debian packages, else the slice bundled with the app
    /// (<c>Data/fortunes</c> beside the executable). The result says which.
    /// </summary>
    /// <param name="dataOption">A folder the user named, or null.</param>
    /// <param name="topics">Topics that must be present (default <see cref="ClassificationTopics"/>).</param>
    /// <param name="systemFolder">Overrides <see cref="SystemFolder"/> (tests).</param>
    /// <param name="bundledFolder">Overrides the bundled folder (tests).</param>
    /// <exception cref="DirectoryNotFoundException">The named folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The named folder lacks a topic, or no corpus was found anywhere; the
    /// message names the packages.</exception>
    public static FortunesLocation Locate(string? dataOption, IReadOnlyList<string>? topics = null, string? systemFolder = null, string? bundledFolder = null)
    {
        topics ??= ClassificationTopics;
        if (!string.IsNullOrWhiteSpace(dataOption))
        {
            string folder = Path.GetFullPath(dataOption);
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"{folder}: data folder not found.");
            }
            var found = TopicsIn(folder);
            var missing = topics.Except(found).ToList();
            if (missing.Count > 0)
            {
                throw new FileNotFoundException($"{folder}: no fortunes file for {string.Join(", ", missing)}.");
            }
            return new FortunesLocation(folder, DataSourceKind.Option, found);
        }
        string system = systemFolder ?? SystemFolder;
        var systemTopics = TopicsIn(system);
        if (topics.All(systemTopics.Contains))
        {
            return new FortunesLocation(system, DataSourceKind.System, systemTopics);
        }
        string bundled = bundledFolder ?? Path.Combine(AppContext.BaseDirectory, "Data", "fortunes");
        var bundledTopics = TopicsIn(bundled);
        if (topics.All(bundledTopics.Contains))
        {
            return new FortunesLocation(bundled, DataSourceKind.Bundled, bundledTopics);
        }
        throw new FileNotFoundException(
            $"No fortunes corpus with the topics {string.Join(", ", topics)}: not in {system} (install Debian's {Packages}: apt-get install {Packages}) nor in {bundled}; pass --data DIR.");
    }

    /// <summary>
    /// A stratified split, the same for the same quotes and seed: each topic's quotes are shuffled by a permutation
    /// keyed on (<paramref name="seed"/>, topic name), the first <c>round(n * testFraction)</c> go to test, the next
    /// <c>round(n * validFraction)</c> to validation, the rest to training; each split keeps corpus order.
    /// </summary>
    public TextSplit Split(int seed = 0, double validFraction = 0.1, double testFraction = 0.1)
    {
        if (validFraction < 0 || testFraction < 0 || validFraction + testFraction >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(validFraction), $"Validation ({validFraction}) and test ({testFraction}) fractions must be non-negative and leave some training data.");
        }
        var train = new List<FortuneQuote>();
        var valid = new List<FortuneQuote>();
        var test = new List<FortuneQuote>();
        var assignment = new Dictionary<FortuneQuote, int>(ReferenceEqualityComparer.Instance);
        foreach (string topic in Topics)
        {
            var members = Quotes.Where(q => q.Topic == topic).ToArray();
            int[] order = Permutation(members.Length, CounterRandom.Derive((ulong)(uint)seed, StableHash(topic)));
            int testCount = (int)Math.Round(members.Length * testFraction, MidpointRounding.AwayFromZero);
            int validCount = (int)Math.Round(members.Length * validFraction, MidpointRounding.AwayFromZero);
            for (int i = 0; i < order.Length; i++)
            {
                assignment[members[order[i]]] = i < testCount ? 2 : i < testCount + validCount ? 1 : 0;
            }
        }
        foreach (var quote in Quotes)
        {
            (assignment[quote] switch { 0 => train, 1 => valid, _ => test }).Add(quote);
        }
        return new TextSplit(Topics, train, valid, test);
    }

    /// <summary>The quotes' text as one stream, each quote followed by <see cref="StreamSeparator"/>.</summary>
    public static string CharacterStream(IEnumerable<FortuneQuote> quotes)
    {
        ArgumentNullException.ThrowIfNull(quotes);
        var builder = new System.Text.StringBuilder();
        foreach (var quote in quotes)
        {
            builder.Append(quote.Text).Append(StreamSeparator);
        }
        return builder.ToString();
    }

    /// <summary>A Fisher-Yates permutation of 0..n-1 driven by <see cref="CounterRandom"/> (as the batch loader's).</summary>
    internal static int[] Permutation(int n, ulong key)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(((UInt128)CounterRandom.Bits(key, (ulong)i) * (ulong)(i + 1)) >> 64);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>FNV-1a of the UTF-16 code units: unlike string.GetHashCode, the same in every process.</summary>
    internal static ulong StableHash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }
}
