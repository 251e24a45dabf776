using System.Globalization;
using Spectre.Console;

namespace Specs.Cli;

/// <summary>
/// The value checks the settings' <c>Validate()</c> share. Each returns null when the value is absent or good, else
/// one line naming the option, what it must be and what it got; <see cref="First"/> turns the first into the result.
/// </summary>
public static class Check
{
    /// <summary>The first error among <paramref name="errors"/>, or success.</summary>
    public static ValidationResult First(params string?[] errors)
        => errors.FirstOrDefault(e => e is not null) is { } error ? ValidationResult.Error(error) : ValidationResult.Success();

    /// <summary>Combines a base class's result with this class's checks.</summary>
    public static ValidationResult First(ValidationResult inherited, params string?[] errors)
        => inherited.Successful ? First(errors) : inherited;

    public static string? Positive(string option, int? value)
        => value is <= 0 ? $"{option} must be a positive integer, got {value.Value.ToString(CultureInfo.InvariantCulture)}." : null;

    public static string? NonNegative(string option, int? value)
        => value is < 0 ? $"{option} must be 0 or more, got {value.Value.ToString(CultureInfo.InvariantCulture)}." : null;

    public static string? NonNegative(string option, float? value)
        => value is { } v && !(v >= 0f && float.IsFinite(v)) ? $"{option} must be a non-negative number, got {v.ToString(CultureInfo.InvariantCulture)}." : null;

    public static string? Fraction(string option, float? value)
        => value is { } v && !(v >= 0f && v <= 1f) ? $"{option} must lie in [0, 1], got {v.ToString(CultureInfo.InvariantCulture)}." : null;

    /// <summary>One of <paramref name="choices"/>, compared case-insensitively.</summary>
    public static string? OneOf(string option, string? value, params string[] choices)
        => value is not null && !choices.Contains(value.ToLowerInvariant())
            ? $"{option} must be one of {string.Join(", ", choices)}, got '{value}'."
            : null;

    /// <summary>A comma-separated list of positive integers, e.g. <c>--threads 1,2</c>.</summary>
    public static string? PositiveList(string option, string? value)
        => value is not null && ParsePositiveList(value) is null
            ? $"{option} must be positive integers separated by commas, got '{value}'."
            : null;

    /// <summary>The integers of a list <see cref="PositiveList"/> accepted; null for anything else.</summary>
    public static int[]? ParsePositiveList(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1)
            {
                return null;
            }
        }
        return result.Length > 0 ? result : null;
    }
}
