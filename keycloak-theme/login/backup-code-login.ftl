<#--
  Backup-code step of the login, and of lock recovery (attribute backupCodeLockedRecovery: the username/password form
  asks for a code to lift a temporary lock). Field: backupCode. Works under keycloak.v2 and its children; imports only template.ftl
  (base themes have no field.ftl/buttons.ftl) so it also renders when the realm keeps another login theme.
-->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=!messagesPerField.existsError('backupCode'); section>
<!-- template: backup-code-login.ftl -->
    <#if section = "header">
        ${msg("backupCodeLoginTitle")}
    <#elseif section = "form">
        <#if !(properties.styles!'')?contains('backup-codes.css')>
            <link href="${url.resourcesPath}/css/backup-codes.css" rel="stylesheet" />
        </#if>
        <#if backupCodeLockedRecovery??>
            <p id="backup-code-locked-recovery" class="bc-explain">${msg("backupCodeLockedRecovery")}</p>
        </#if>
        <#assign codeError = messagesPerField.getFirstError('backupCode')>
        <form id="kc-backup-code-login-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post"
              onsubmit="this.querySelector('#kc-login').disabled = true; return true;">
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormGroupLabelClass!}">
                    <label for="backupCode" class="${properties.kcFormLabelClass!}">
                        <span class="${properties.kcFormLabelTextClass!}">${msg("backupCodeLabel")}</span>
                    </label>
                </div>
                <span class="${properties.kcInputClass!} <#if codeError?has_content>${properties.kcError!}</#if>">
                    <input id="backupCode" name="backupCode" type="text" value="" dir="ltr"
                           autocomplete="one-time-code" inputmode="text" autocapitalize="characters"
                           autocorrect="off" spellcheck="false" maxlength="64" autofocus required
                           aria-describedby="backupCode-hint<#if codeError?has_content> input-error-backupCode</#if>"
                           <#if codeError?has_content>aria-invalid="true"</#if> />
                </span>
                <div class="${properties.kcFormHelperTextClass!}">
                    <div class="${properties.kcInputHelperTextClass!}">
                        <div class="${properties.kcInputHelperTextItemClass!}">
                            <span id="backupCode-hint" class="${properties.kcInputHelperTextItemTextClass!}">${msg("backupCodeHint")}</span>
                        </div>
                    </div>
                </div>
                <div id="input-error-container-backupCode" aria-live="assertive">
                    <#if codeError?has_content>
                        <div class="${properties.kcFormHelperTextClass!}">
                            <div class="${properties.kcInputHelperTextClass!}">
                                <div class="${properties.kcInputHelperTextItemClass!} ${properties.kcError!}" id="input-error-backupCode">
                                    <span class="${properties.kcInputErrorMessageClass!}">${kcSanitize(codeError)?no_esc}</span>
                                </div>
                            </div>
                        </div>
                    </#if>
                </div>
            </div>

            <p class="bc-anti-phishing">${msg("backupCodeAntiPhishing", (realm.displayName)!realm.name)}</p>

            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormActionGroupClass!}">
                    <button id="kc-login" name="login" type="submit"
                            class="${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}"><#if backupCodeResetFlow??>${msg("backupCodeContinue")}<#else>${msg("backupCodeSubmit")}</#if></button>
                </div>
            </div>
        </form>
    </#if>
</@layout.registrationLayout>
