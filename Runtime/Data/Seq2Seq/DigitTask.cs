namespace Dsl.Data.Seq2Seq;

/// <summary>
/// Strings of decimal digits: short ones have <see cref="MinLength"/>..<see cref="ShortMaxLength"/> digits, long
/// ones <see cref="ShortMaxLength"/>+1..<see cref="MaxLength"/>, each length equally likely within its kind.
/// </summary>
public abstract class DigitTask : ISeq2SeqTask
{
    protected DigitTask(int minLength, int shortMaxLength, int maxLength)
    {
        if (minLength < 1 || shortMaxLength < minLength || maxLength <= shortMaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(minLength), $"Lengths must satisfy 1 <= min <= shortMax < max, got {minLength}, {shortMaxLength}, {maxLength}.");
        }
        MinLength = minLength;
        ShortMaxLength = shortMaxLength;
        MaxLength = maxLength;
    }

    public abstract string Name { get; }
    public int MinLength { get; }
    public int ShortMaxLength { get; }
    public int MaxLength { get; }
    public string SourceAlphabet => "0123456789";
    public string TargetAlphabet => "0123456789";

    public Seq2SeqExample Sample(SeededRandom random, bool isLong)
    {
        ArgumentNullException.ThrowIfNull(random);
        int length = isLong ? random.Between(ShortMaxLength + 1, MaxLength) : random.Between(MinLength, ShortMaxLength);
        var digits = new char[length];
        for (int i = 0; i < length; i++)
        {
            digits[i] = (char)('0' + random.Below(10));
        }
        string source = new(digits);
        return new Seq2SeqExample(source, Solve(source), isLong);
    }

    public string Solve(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        foreach (char c in source)
        {
            if (c is < '0' or > '9')
            {
                throw new ArgumentException($"\"{source}\" holds '{c}', not only digits.", nameof(source));
            }
        }
        return Transform(source);
    }

    /// <summary>The target of a string of digits.</summary>
    protected abstract string Transform(string digits);
}

/// <summary>Reverse a string of digits: <c>12345</c> becomes <c>54321</c>.</summary>
public sealed class ReverseDigitsTask(int minLength = 4, int shortMaxLength = 12, int maxLength = 16) : DigitTask(minLength, shortMaxLength, maxLength)
{
    public override string Name => "reverse";

    protected override string Transform(string digits)
    {
        var chars = digits.ToCharArray();
        Array.Reverse(chars);
        return new string(chars);
    }
}

/// <summary>Sort a string of digits ascending: <c>31412</c> becomes <c>11234</c>.</summary>
public sealed class SortDigitsTask(int minLength = 4, int shortMaxLength = 12, int maxLength = 16) : DigitTask(minLength, shortMaxLength, maxLength)
{
    public override string Name => "sort";

    protected override string Transform(string digits)
    {
        // Counting, not a comparison sort: an independent route to the same answer as sorting the characters.
        Span<int> counts = stackalloc int[10];
        foreach (char c in digits)
        {
            counts[c - '0']++;
        }
        var sorted = new char[digits.Length];
        int k = 0;
        for (int d = 0; d < 10; d++)
        {
            for (int i = 0; i < counts[d]; i++)
            {
                sorted[k++] = (char)('0' + d);
            }
        }
        return new string(sorted);
    }
}
