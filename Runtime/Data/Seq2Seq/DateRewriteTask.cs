using System.Globalization;

namespace Dsl.Data.Seq2Seq;

/// <summary>
/// Rewrite a written date into ISO 8601 (<c>yyyy-MM-dd</c>). Dates are uniform over 1900-01-01..2099-12-31, written
/// in English (invariant culture) in one of the short formats <c>March 5, 1998</c>, <c>5 March 1998</c>,
/// <c>Mar 5, 1998</c>, <c>5 Mar 1998</c>, <c>05/03/1998</c> (numeric dates are always day/month/year), or, as
/// the long kind (19 to 29 characters, longer than every short one, which have at most 18), with the weekday:
/// <c>Thursday, March 5, 1998</c>.
/// </summary>
public sealed class DateRewriteTask : ISeq2SeqTask
{
    /// <summary>Formats of the short kind (at most 18 characters).</summary>
    public static IReadOnlyList<string> ShortFormats { get; } = ["MMMM d, yyyy", "d MMMM yyyy", "MMM d, yyyy", "d MMM yyyy", "dd/MM/yyyy"];

    /// <summary>Formats of the long kind (at least 19 characters).</summary>
    public static IReadOnlyList<string> LongFormats { get; } = ["dddd, MMMM d, yyyy"];

    /// <summary>The longest short source, in characters.</summary>
    public const int ShortMaxLength = 18;

    private static readonly DateTime First = new(1900, 1, 1);
    private static readonly int DayCount = (int)(new DateTime(2099, 12, 31) - First).TotalDays + 1;
    private static readonly string[] AllFormats = [.. ShortFormats, .. LongFormats];

    public string Name => "dates";

    public string SourceAlphabet { get; } = BuildSourceAlphabet();

    public string TargetAlphabet => "0123456789-";

    public Seq2SeqExample Sample(SeededRandom random, bool isLong)
    {
        ArgumentNullException.ThrowIfNull(random);
        var date = First.AddDays(random.Below(DayCount));
        var formats = isLong ? LongFormats : ShortFormats;
        string source = date.ToString(formats[random.Below(formats.Count)], CultureInfo.InvariantCulture);
        return new Seq2SeqExample(source, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), isLong);
    }

    public string Solve(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!DateTime.TryParseExact(source, AllFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw new ArgumentException($"\"{source}\" is not a date in one of the task's formats ({string.Join(", ", AllFormats)}).", nameof(source));
        }
        return date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    private static string BuildSourceAlphabet()
    {
        var format = CultureInfo.InvariantCulture.DateTimeFormat;
        var chars = new SortedSet<char>("0123456789 ,/");
        foreach (string name in format.MonthNames.Concat(format.AbbreviatedMonthNames).Concat(format.DayNames))
        {
            chars.UnionWith(name);
        }
        return new string([.. chars]);
    }
}
