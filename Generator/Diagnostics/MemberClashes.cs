using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generator.Diagnostics;

/// <summary>
/// DSL0020: a member the user declared that a generated member of the same class would clash with (a block named
/// <c>Summary</c>, a constructor <c>(Device, int)</c>, a field <c>_fc1_weight</c>). Without this check the generated
/// file fails to compile with CS0102/CS0111 errors inside code the user never wrote.
/// </summary>
internal static class MemberClashes
{
    /// <summary>
    /// A diagnostic at each user member that a generated member clashes with (DSL0020) or that hides a member of
    /// <c>Dsl.Module</c> the generated code calls or overrides (DSL0022), in declaration order.
    /// </summary>
    public static IEnumerable<DiagnosticInfo> Find(string className, EquatableArray<UserMember> user, IReadOnlyList<UserMember> generated,
        EquatableArray<UserMember> inherited)
    {
        foreach (var mine in user)
        {
            if (generated.FirstOrDefault(g => Clash(mine, g)) is { } theirs)
            {
                yield return DiagnosticInfo.Create(Descriptors.MemberClash, mine.Location, Describe(mine, className), Describe(theirs, className), className);
            }
            else if (inherited.FirstOrDefault(b => Clash(mine, b)) is { } hidden)
            {
                yield return DiagnosticInfo.Create(Descriptors.HidesModuleMember, mine.Location, Describe(mine, className), Describe(hidden, "Module"), className);
            }
        }
    }

    /// <summary>
    /// The members the emitted class declares, read back from its text, so the check follows the emitter exactly.
    /// (When the emit step reports its declared members itself, pass those instead.)
    /// </summary>
    public static IReadOnlyList<UserMember> Declared(string generatedSource)
    {
        var members = new List<UserMember>();
        var root = CSharpSyntaxTree.ParseText(generatedSource).GetRoot();
        var type = root.DescendantNodes().OfType<ClassDeclarationSyntax>().FirstOrDefault();
        if (type is null)
        {
            return members;
        }
        var none = new LocationInfo("", default, default);
        foreach (var member in type.Members)
        {
            switch (member)
            {
                case FieldDeclarationSyntax field:
                    members.AddRange(field.Declaration.Variables.Select(v => new UserMember(v.Identifier.ValueText, MemberKind.Field, EquatableArray<string>.Empty, none)));
                    break;
                case EventFieldDeclarationSyntax field:
                    members.AddRange(field.Declaration.Variables.Select(v => new UserMember(v.Identifier.ValueText, MemberKind.Event, EquatableArray<string>.Empty, none)));
                    break;
                case PropertyDeclarationSyntax property:
                    members.Add(new UserMember(property.Identifier.ValueText, MemberKind.Property, EquatableArray<string>.Empty, none));
                    break;
                case MethodDeclarationSyntax method:
                    members.Add(new UserMember(method.Identifier.ValueText, MemberKind.Method, Parameters(method.ParameterList), none));
                    break;
                case ConstructorDeclarationSyntax constructor when !constructor.Modifiers.Any(SyntaxKind.StaticKeyword):
                    members.Add(new UserMember(".ctor", MemberKind.Constructor, Parameters(constructor.ParameterList), none));
                    break;
                case BaseTypeDeclarationSyntax nested:
                    members.Add(new UserMember(nested.Identifier.ValueText, MemberKind.Type, EquatableArray<string>.Empty, none));
                    break;
            }
        }
        return members;
    }

    /// <summary>C#'s rule: one name, one member, except methods (or constructors) whose parameter types differ.</summary>
    private static bool Clash(UserMember a, UserMember b)
    {
        if (a.Name != b.Name)
        {
            return false;
        }
        if (a.Kind == MemberKind.Constructor || b.Kind == MemberKind.Constructor)
        {
            return a.Kind == b.Kind && a.Parameters == b.Parameters;
        }
        return !(a.Kind == MemberKind.Method && b.Kind == MemberKind.Method) || a.Parameters == b.Parameters;
    }

    private static EquatableArray<string> Parameters(ParameterListSyntax list)
        => EquatableArray.From(list.Parameters.Select(p =>
            string.Concat(p.Modifiers.Where(m => m.IsKind(SyntaxKind.RefKeyword) || m.IsKind(SyntaxKind.OutKeyword) || m.IsKind(SyntaxKind.InKeyword)).Select(m => m.Text + " "))
            + (p.Type?.ToString() ?? "")));

    private static string Describe(UserMember member, string className) => member.Kind switch
    {
        MemberKind.Constructor => $"constructor '{className}({ShortTypes(member)})'",
        MemberKind.Method => $"method '{member.Name}({ShortTypes(member)})'",
        MemberKind.Field => $"field '{member.Name}'",
        MemberKind.Property => $"property '{member.Name}'",
        MemberKind.Event => $"event '{member.Name}'",
        MemberKind.Type => $"nested type '{member.Name}'",
        _ => throw new System.ArgumentOutOfRangeException(nameof(member), member.Kind, "unknown member kind"),
    };

    /// <summary><c>global::Dsl.Device, int</c> as the user would write it: <c>Device, int</c>.</summary>
    private static string ShortTypes(UserMember member)
        => string.Join(", ", member.Parameters.Select(t => System.Text.RegularExpressions.Regex.Replace(t, @"global::(\w+\.)*", "")));
}
