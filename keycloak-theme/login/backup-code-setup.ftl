<#--
  "Set up backup codes" required action.
  Fields: backupCodeConfirm (checkbox, required), download = pdf | txt (download form), backupCodeGenerate (regenerate
  confirmation), cancel-aia (Keycloak's own cancel for application-initiated actions).
  The codes come from the auth session (attribute backupCodes); the form never posts them back.
  backupCodesCreatedAt is already formatted for people (user's language, UTC); the raw ISO value is in
  backupCodesCreatedAtIso.
-->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=!messagesPerField.existsError('backupCodeConfirm'); section>
<!-- template: backup-code-setup.ftl -->
<#assign realmLabel = (realm.displayName)!realm.name>
<#if section = "header">
    <#if backupCodeRegenerate??>${msg("backupCodeRegenerateTitle")}<#else>${msg("backupCodeSetupTitle")}</#if>
<#elseif section = "form">
    <#if !(properties.styles!'')?contains('backup-codes.css')>
        <link href="${url.resourcesPath}/css/backup-codes.css" rel="stylesheet" />
    </#if>

    <#if backupCodeRegenerate??>
        <p id="backup-code-regenerate-message">${msg("backupCodeRegenerateMessage", backupCodeRemaining!"0")}</p>
        <form id="kc-backup-code-regenerate-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormActionGroupClass!} bc-actions-stacked">
                    <button id="backup-code-generate" type="submit" name="backupCodeGenerate" value="true" autofocus
                            aria-describedby="backup-code-regenerate-message"
                            class="${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeRegenerateConfirm")}</button>
                    <#if isAppInitiatedAction??>
                        <button id="backup-code-cancel" type="submit" name="cancel-aia" value="true"
                                class="${properties.kcButtonSecondaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeCancel")}</button>
                    </#if>
                </div>
            </div>
        </form>
    <#else>
        <div class="${properties.kcAlertClass!} pf-m-warning" role="status">
            <div class="${properties.kcAlertIconClass!}"><span class="${properties.kcFeedbackWarningIcon!}" aria-hidden="true"></span></div>
            <p class="${properties.kcAlertTitleClass!}">${msg("backupCodeSetupWarning")}</p>
        </div>

        <section id="backup-code-print-area" class="bc-sheet" aria-labelledby="backup-code-list-heading">
            <h2 id="backup-code-list-heading" class="bc-sheet-title">${msg("backupCodeSetupListHeading", realmLabel)}</h2>
            <ol id="backup-code-list" class="bc-codes">
                <#list backupCodes as code>
                    <li><code class="bc-code" dir="ltr">${code}</code></li>
                </#list>
            </ol>
            <p class="bc-usage">${msg("backupCodeSetupUsage")}</p>
            <p class="bc-anti-phishing">${msg("backupCodeAntiPhishing", realmLabel)}</p>
            <#if backupCodesCreatedAt?has_content>
                <p id="backup-code-created" class="bc-created" data-created-at="${backupCodesCreatedAtIso!""}">${msg("backupCodeSetupCreatedAt", backupCodesCreatedAt)}</p>
            </#if>
        </section>

        <div class="bc-tools" role="group" aria-label="${msg("backupCodeSetupToolsLabel")}">
            <form id="backup-code-download-form" class="bc-tools-form" action="${url.loginAction}" method="post"
                  data-next-action-header="X-Backup-Codes-Next-Action">
                <button id="backup-code-download-pdf" type="submit" name="download" value="pdf"
                        class="${properties.kcButtonSecondaryClass!}">${msg("backupCodeDownloadPdf")}</button>
                <button id="backup-code-download-txt" type="submit" name="download" value="txt"
                        class="${properties.kcButtonSecondaryClass!}">${msg("backupCodeDownloadTxt")}</button>
            </form>
            <button id="backup-code-print" type="button" hidden
                    class="${properties.kcButtonSecondaryClass!}">${msg("backupCodePrint")}</button>
            <button id="backup-code-copy" type="button" hidden
                    data-copied="${msg("backupCodeCopied")}" data-copy-failed="${msg("backupCodeCopyFailed")}"
                    class="${properties.kcButtonSecondaryClass!}">${msg("backupCodeCopy")}</button>
        </div>
        <p id="backup-code-tools-status" class="bc-status" role="status" aria-live="polite"
           data-download-failed="${msg("backupCodeDownloadUnavailable")}"></p>

        <#assign confirmError = messagesPerField.getFirstError('backupCodeConfirm')>
        <form id="kc-backup-code-setup-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcCheckboxClass!} bc-confirm">
                    <input class="${properties.kcCheckboxInputClass!}" type="checkbox" id="backupCodeConfirm" name="backupCodeConfirm"
                           required <#if confirmError?has_content>aria-invalid="true" aria-describedby="input-error-backupCodeConfirm"</#if> />
                    <label for="backupCodeConfirm" class="${properties.kcCheckboxLabelClass!}">${msg("backupCodeConfirmLabel")}</label>
                </div>
                <div id="input-error-container-backupCodeConfirm" aria-live="assertive">
                    <#if confirmError?has_content>
                        <div class="${properties.kcFormHelperTextClass!}">
                            <div class="${properties.kcInputHelperTextClass!}">
                                <div class="${properties.kcInputHelperTextItemClass!} ${properties.kcError!}" id="input-error-backupCodeConfirm">
                                    <span class="${properties.kcInputErrorMessageClass!}">${kcSanitize(confirmError)?no_esc}</span>
                                </div>
                            </div>
                        </div>
                    </#if>
                </div>
            </div>
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormActionGroupClass!} bc-actions-stacked">
                    <button id="backup-code-continue" type="submit" name="backupCodeContinue" value="true"
                            class="${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeContinue")}</button>
                    <#if isAppInitiatedAction??>
                        <button id="backup-code-cancel" type="submit" name="cancel-aia" value="true" formnovalidate
                                class="${properties.kcButtonSecondaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeCancel")}</button>
                    </#if>
                </div>
            </div>
        </form>
        <script src="${url.resourcesPath}/js/backup-codes.js" defer></script>
    </#if>
</#if>
</@layout.registrationLayout>
